"""Rating an answer on the chat page and reading it on the owners' page /insights, in real headless Chromium,
at desktop and phone sizes (CSP bypassed for the helpers' evaluated scripts, as in the chat page's tests)."""

from __future__ import annotations

import shutil

import pytest

from .conftest import ROOT, TOKEN
from .test_browser import ARTIFACTS, ask, browser  # noqa: F401 - the browser fixture is shared

pytestmark = [pytest.mark.integration, pytest.mark.browser]
SIZES = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(params=list(SIZES))
def size(request):
    return request.param


@pytest.fixture
def page(browser, server, size):  # noqa: F811
    phone = size == "phone"
    context = browser.new_context(viewport=SIZES[size], is_mobile=phone, has_touch=phone, bypass_csp=True)
    pg = context.new_page()
    pg.problems = []
    pg.on("console", lambda m: m.type == "error" and pg.problems.append(m.text))
    pg.on("pageerror", lambda e: pg.problems.append(str(e)))
    pg.goto(server.url + "/")
    yield pg
    context.close()


def open_insights(page, server, token: str = TOKEN) -> None:
    page.goto(server.url + "/insights")
    page.wait_for_selector("#token-form:not([hidden])")
    page.fill("#token", token)
    page.click("#token-form button[type=submit]")


def test_rate_an_answer_then_read_it_on_the_insights_page(page, server, size):
    answer = ask(page, "How much does the Northeastern program cost?", 1)
    assert "$61,728" in answer.locator(".answer").inner_text()
    answer.locator("button.rate[data-rating=down]").click()
    answer.locator("button.reason[data-reason=wrong_figure]").click()
    page.wait_for_selector(".msg.bot .feedback .rated")
    assert "Thanks" in answer.locator(".feedback").inner_text()
    refused = ask(page, "What GPA does Northeastern require?", 2)
    assert "Not in the documents" in refused.locator(".label").first.inner_text()
    page.reload()  # the rating is kept with the conversation: no second rating offered
    page.wait_for_selector(".msg.bot")
    assert page.locator(".msg.bot").first.locator("button.rate").count() == 0
    page.screenshot(path=str(ARTIFACTS / f"chat-feedback-{size}.png"))

    open_insights(page, server)
    page.wait_for_selector("#report:not([hidden])")
    assert page.is_hidden("#token-form")
    groups = page.locator("#unanswered").inner_text()
    assert "Tuition or cost" in groups and "How much does the Northeastern program cost?" in groups
    assert "Minimum GPA" in groups and "What GPA does Northeastern require?" in groups
    assert "Not helpful: " in page.inner_text("#feedback-counts")
    page.wait_for_selector("#coverage-status:has-text('Index version')", timeout=60000)
    row = page.locator("table.coverage[data-type=program] tr", has_text="Northeastern")
    tuition = row.locator("td").nth(0).locator("button.cell")
    assert "$61,728" in tuition.get_attribute("title")
    tuition.click()  # a tap shows the quote (phones have no hover)
    assert "$61,728" in page.inner_text("#quote")
    assert row.locator(".missing").count() >= 1  # a fact the page does not state is marked
    # The page never scrolls sideways on a phone: the table scrolls inside its own box.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.screenshot(path=str(ARTIFACTS / f"insights-{size}.png"), full_page=True)
    if size == "desktop":  # the README's pictures
        for name in ("insights-desktop.png", "chat-feedback-desktop.png"):
            shutil.copy(ARTIFACTS / name, ROOT / "docs" / name)
    assert page.problems == []


def test_a_wrong_token_is_asked_again(page, server):
    open_insights(page, server, token="not-the-admin-token-at-all")
    page.wait_for_selector("#token-error:not(:empty)")
    assert "wrong admin token" in page.inner_text("#token-error")
    assert page.is_visible("#token-form") and page.is_hidden("#report")
