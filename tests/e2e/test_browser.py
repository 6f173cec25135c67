"""The chat page in real headless Chromium (Debian's /usr/bin/chromium driven by Playwright)."""

import shutil
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.browser]
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
]


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        pytest.fail("chromium is not installed: `make test` installs it (apt-get install chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, args=FLAGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser, server):
    # CSP bypassed: the test helpers evaluate scripts, and the XSS test then proves escaping on its own.
    context = browser.new_context(viewport={"width": 1000, "height": 900}, bypass_csp=True)
    pg = context.new_page()
    pg.dialogs = []
    pg.on("dialog", lambda d: (pg.dialogs.append(d.message), d.dismiss()))
    pg.goto(server.url + "/")
    yield pg
    context.close()


def ask(page, question: str, n: int):
    page.fill("#message", question)
    page.press("#message", "Enter")
    page.wait_for_function(f"document.querySelectorAll('.msg.bot:not([aria-busy])').length >= {n}", timeout=30000)
    return page.locator(".msg.bot").nth(n - 1)


def test_ask_cite_follow_up_and_reload(page):
    assert page.is_visible("#empty")
    answer = ask(page, "How much does the Northeastern program cost?", 1)
    assert "$61,728" in answer.locator(".answer").inner_text()
    markers = answer.locator(".cite")
    assert markers.count() >= 1
    # Open the citation whose passage holds the tuition figure and see the quoted sentence highlighted.
    for i in range(markers.count()):
        markers.nth(i).click()
        if "$61,728" in page.inner_text("#passage-text"):
            break
    assert page.is_visible("#passage")
    assert "$61,728" in page.locator("#passage-text mark").first.inner_text()
    href = page.get_attribute("#passage-link", "href")
    assert href.startswith("https://graduate.northeastern.edu/") and "#:~:text=" in href
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "chat-answered.png"), full_page=False)
    page.click("#passage-close")
    follow = ask(page, "Is the GRE required?", 2)
    assert "not required" in follow.locator(".answer").inner_text()
    page.reload()
    page.wait_for_selector(".msg.bot")
    assert page.locator(".msg.bot").count() == 2  # the conversation survives a reload


def test_suggested_question_and_new_conversation(page):
    page.click("#new-chat")
    suggestions = page.locator("#suggestions .suggestion")
    assert suggestions.count() >= 4
    text = suggestions.first.inner_text()
    suggestions.first.click()
    page.wait_for_function("document.querySelectorAll('.msg.bot:not([aria-busy])').length >= 1", timeout=30000)
    assert page.locator(".msg.user").first.inner_text().endswith(text)
    assert page.locator(".msg.bot .answer").first.inner_text().strip()


def test_abstention_is_shown_with_suggestions(page):
    page.click("#new-chat")
    answer = ask(page, "Who won the 2022 FIFA World Cup?", 1)
    assert "Not in the documents" in answer.inner_text()
    assert answer.locator(".suggestion").count() >= 1


def test_document_markup_is_shown_as_text(page):
    page.click("#new-chat")
    answer = ask(page, "What is the Zorblax program motto?", 1)
    assert "<script>" in answer.locator(".answer").inner_text()
    answer.locator(".cite").first.click()
    assert "onerror" in page.inner_text("#passage-text") or "<script>" in page.inner_text("#passage-text")
    assert page.evaluate("window.__xss") is None and page.dialogs == []
    assert page.locator(".msg script, .msg img, #passage script, #passage img").count() == 0


def test_four_turn_conversation_with_a_school_switch(browser, schools_server):
    context = browser.new_context(viewport={"width": 1000, "height": 900}, bypass_csp=True)
    page = context.new_page()
    page.goto(schools_server.url + "/")
    turns = [
        ("How many credits does Lakeview State's robotics MS require?", "30 credits", None),
        (
            "What about at Harbor Tech?",
            "33-credit",
            "Searched: How many credits does Harbor Tech's robotics MS require?",
        ),
        ("What's the minimum GPA there?", "3.1", "Searched: What's the minimum GPA at Harbor Tech?"),
        ("Going back to Lakeview State: is the GRE required?", "not required", None),
    ]
    for n, (question, figure, shown) in enumerate(turns, start=1):
        answer = ask(page, question, n)
        text = answer.inner_text()
        assert figure in answer.locator(".answer").inner_text(), (question, text)
        if shown:
            assert shown in text, text  # the readable standalone query, no bracketed word lists
    # Each answer cites the right school's page.
    sources = [page.locator(".msg.bot").nth(i).inner_text() for i in range(4)]
    assert "Lakeview" in sources[0] and "Harbor" in sources[1] and "Harbor" in sources[2] and "Lakeview" in sources[3]
    context.close()
