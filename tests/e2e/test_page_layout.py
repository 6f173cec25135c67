"""The chat page at desktop and phone sizes: scrolling, one question at a time, sources, the passage panel, focus."""

from __future__ import annotations

import httpx
import pytest

from .test_browser import ARTIFACTS, ask, browser  # noqa: F401 - the browser fixture is shared

pytestmark = [pytest.mark.integration, pytest.mark.browser]
DESKTOP = {"width": 1280, "height": 720}
PHONE = {"width": 390, "height": 844}
QUESTIONS = [
    "How many credits does Lakeview State's robotics MS require?",
    "What about at Harbor Tech?",
    "What's the minimum GPA there?",
    "Going back to Lakeview State: is the GRE required?",
    "How much does a welding engineer earn?",
]


@pytest.fixture(params=["desktop", "phone"])
def size(request):
    return request.param


@pytest.fixture
def page(browser, schools_server, size):  # noqa: F811
    viewport = DESKTOP if size == "desktop" else PHONE
    context = browser.new_context(
        viewport=viewport, bypass_csp=True, is_mobile=size == "phone", has_touch=size == "phone"
    )
    pg = context.new_page()
    pg.problems = []
    pg.on("console", lambda m: m.type == "error" and pg.problems.append(m.text))
    pg.on("response", lambda r: r.status >= 400 and pg.problems.append(f"{r.status} {r.url}"))
    pg.goto(schools_server.url + "/")
    yield pg
    context.close()


def in_view(page, locator) -> bool:
    """The element's top is on screen and above the input bar (not hidden under it)."""
    box = locator.bounding_box()
    bar = page.locator("#ask").bounding_box()
    return box is not None and 0 <= box["y"] < bar["y"]


def test_each_new_answer_is_scrolled_into_view(page, size):
    for n, question in enumerate(QUESTIONS, start=1):
        answer = ask(page, question, n)
        assert in_view(page, answer), f"answer {n} is below the fold"
    page.screenshot(path=str(ARTIFACTS / f"chat-{size}.png"))
    assert page.problems == []  # no 404 (favicon) and no script error on the way


def test_reading_further_up_is_not_interrupted(page):
    for n, question in enumerate(QUESTIONS[:4], start=1):
        ask(page, question, n)
    page.evaluate("window.scrollTo(0, 0)")
    page.wait_for_function("follow === false")  # the scroll listener noticed the reader went up
    page.evaluate("render()")  # what happens when an answer completes
    assert page.evaluate("window.scrollY") == 0


def test_enter_waits_while_an_answer_is_pending(page):
    held = []
    # The first answer is held back until the test lets it go; later requests pass straight through.
    page.route("**/api/chat/stream", lambda route: route.continue_() if held else held.append(route))
    page.fill("#message", QUESTIONS[0])
    page.press("#message", "Enter")
    page.wait_for_function("document.querySelector('#send').disabled")
    page.fill("#message", QUESTIONS[1])
    page.press("#message", "Enter")  # too early: nothing is sent, the text stays in the box
    assert page.locator(".msg.user").count() == 1 and len(held) == 1
    assert page.input_value("#message") == QUESTIONS[1]
    assert page.get_attribute("#ask", "aria-busy") == "true"
    held[0].continue_()
    page.wait_for_function("document.querySelectorAll('.msg.bot:not([aria-busy])').length >= 1")
    assert "30 credits" in page.locator(".msg.bot .answer").first.inner_text()
    with page.expect_request("**/api/chat/stream") as sent:
        page.press("#message", "Enter")
    assert "session_id" in sent.value.post_data_json  # the follow-up goes with the first answer's session
    page.wait_for_function("document.querySelectorAll('.msg.bot:not([aria-busy])').length >= 2")
    labels = [li.get_attribute("class") for li in page.locator("#log > li").all()]
    assert labels == ["msg user", "msg bot", "msg user", "msg bot"]
    assert "33-credit" in page.locator(".msg.bot .answer").nth(1).inner_text()


def test_a_suggestion_is_a_students_question_and_gets_an_answer(page):
    suggestions = page.locator("#suggestions .suggestion")
    assert suggestions.count() >= 3
    text = suggestions.first.inner_text()
    assert "“" not in text and text.endswith("?")
    suggestions.first.click()
    answer = page.locator(".msg.bot").first
    page.wait_for_function("document.querySelectorAll('.msg.bot:not([aria-busy])').length >= 1")
    assert page.locator(".msg.user").first.inner_text().endswith(text)
    assert "Not in the documents" not in answer.inner_text() and answer.locator(".cite").count() >= 1


def test_sources_are_compact_and_numbered_on_their_own_line(page):
    answer = ask(page, QUESTIONS[0], 1)
    rows = answer.locator(".sources .source")
    assert rows.count() >= 1
    for i in range(rows.count()):
        row = rows.nth(i)
        number, title = row.locator(".n"), row.locator(".title")
        assert number.inner_text() == f"[{i + 1}]"
        assert abs(number.bounding_box()["y"] - title.bounding_box()["y"]) < 6  # the number sits on its title's line
    first = rows.first.inner_text()
    assert "Lakeview State University" in first and " - MS in Robotics" not in first  # short title, no breadcrumb


def test_passage_panel_keyboard_and_placement(page, size):
    answer = ask(page, QUESTIONS[0], 1)
    cite = answer.locator(".cite").first
    cite.focus()
    page.keyboard.press("Enter")
    panel = page.locator("#passage")
    assert panel.is_visible() and page.evaluate("document.activeElement.id") == "passage"
    box, bar = panel.bounding_box(), page.locator("#ask").bounding_box()
    viewport = page.viewport_size
    if size == "desktop":
        assert box["y"] + box["height"] <= bar["y"]  # clear of the input bar
        assert box["y"] >= 0
    else:
        # A bottom sheet: full width, on the bottom edge, leaving the top of the conversation visible.
        assert box["x"] == 0 and abs(box["width"] - viewport["width"]) < 1
        assert abs(box["y"] + box["height"] - viewport["height"]) < 2
        assert box["height"] <= 0.6 * viewport["height"]
    page.screenshot(path=str(ARTIFACTS / f"passage-{size}.png"))
    page.keyboard.press("Escape")
    assert not panel.is_visible()
    assert page.evaluate("document.activeElement.classList.contains('cite')")  # focus is back on the citation


def test_head_and_favicon(schools_server):
    assert httpx.head(schools_server.url + "/", timeout=10).status_code == 200
    icon = httpx.get(schools_server.url + "/favicon.ico", timeout=10)
    assert icon.status_code == 200 and icon.text.startswith("<svg")


def test_api_docs_render_in_the_browser(browser, schools_server):  # noqa: F811
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.goto(schools_server.url + "/docs")
    page.wait_for_selector(".opblock-summary-path", timeout=30000)
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert "/api/chat" in paths and "/v1/chat/completions" in paths
    assert "valid version field" not in page.inner_text("body")
    context.close()


def test_the_input_shows_its_placeholder_whole(page, size):
    # The placeholder laid out in a box of the input's width and font must fit its visible lines.
    fits = page.evaluate(
        """() => {
            const box = document.querySelector('#message');
            const style = getComputedStyle(box);
            const probe = document.createElement('div');
            for (const p of ['font', 'padding', 'border', 'boxSizing', 'lineHeight', 'letterSpacing', 'wordBreak'])
                probe.style[p] = style[p];
            probe.style.width = box.offsetWidth + 'px';
            probe.style.position = 'absolute';
            probe.style.visibility = 'hidden';
            probe.style.whiteSpace = 'pre-wrap';
            probe.textContent = box.placeholder;
            document.body.appendChild(probe);
            const needed = probe.offsetHeight;
            probe.remove();
            return [needed, box.offsetHeight];
        }"""
    )
    assert fits[0] <= fits[1], f"{size}: the placeholder needs {fits[0]} px, the input shows {fits[1]}"


def test_two_citations_of_one_section_are_told_apart(page):
    # A stored conversation (as the page keeps it) whose answer cites two passages of one page and section.
    import json

    def cite(n, text):
        return {"n": n, "doc_id": "lakeview-robotics", "chunk_id": f"c{n}", "title": "Lakeview State University - MS",
                "section": "Admissions › Deadlines", "source": "https://lakeview.example.edu/ms", "page": None,
                "text": text, "score": 0.5, "quotes": [[0, len(text)]]}  # fmt: skip

    payload = {
        "session_id": None, "answer": "Fall: June 1 [1] Spring: November 15 [2]", "answered": True, "query": "q",
        "citations": [cite(1, "Fall applicants: June 1"), cite(2, "Spring applicants: November 15")],
        "suggestions": [], "notice": None,
    }  # fmt: skip
    stored = {"sessionId": None, "messages": [{"role": "user", "text": "q"}, {"role": "bot", "payload": payload}]}
    page.evaluate("s => localStorage.setItem('pqa-chat-v1', s)", json.dumps(stored))
    page.reload()
    lines = [page.locator(".sources .source .where").nth(i).inner_text() for i in range(2)]
    assert lines[0] != lines[1]
    assert "Fall applicants" in lines[0] and "Spring applicants" in lines[1]
