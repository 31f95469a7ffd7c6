"""End to end in Chromium: sign up, search live, open a paper, upvote, save, export, follow a feed.

Each main page is screenshotted into test-artifacts/. Basic accessibility is
checked on every page: one h1, every form control labelled, keyboard focus
reachable and visible.
"""

from __future__ import annotations

import re
from pathlib import Path

import feedparser
import httpx
import pytest
from browser_support import shot

pytestmark = pytest.mark.browser

_UNLABELLED_JS = """
() => [...document.querySelectorAll('input, select, textarea, button')]
  .filter(el => el.type !== 'hidden' && el.offsetParent !== null)
  .filter(el => {
    if (el.tagName === 'BUTTON') return !(el.innerText.trim() || el.getAttribute('aria-label'));
    const id = el.id && document.querySelector(`label[for="${el.id}"]`);
    return !(id || el.closest('label') || el.getAttribute('aria-label'));
  })
  .map(el => el.outerHTML.slice(0, 120))
"""


def check_a11y(page) -> None:  # type: ignore[no-untyped-def]
    assert page.locator("h1").count() == 1, "one h1 per page"
    assert page.evaluate(_UNLABELLED_JS) == []
    assert page.locator("html[lang]").count() == 1
    assert page.locator("main#main").count() == 1


def test_the_whole_journey(page, server: str) -> None:  # type: ignore[no-untyped-def]
    # Trending home
    page.goto(server + "/")
    assert page.title().startswith("paperlens")
    check_a11y(page)
    assert page.locator(".demo-banner").is_visible()  # demo votes are labelled
    shot(page, "01-home-trending")
    page.get_by_role("link", name="Monthly", exact=True).click()
    page.wait_for_url(re.compile(r"/papers/month/\d{4}-\d{2}$"))
    assert page.locator("[data-card]").count() > 0
    page.locator("details.why summary").first.click()
    assert page.locator("table.breakdown").first.is_visible()
    shot(page, "02-trending-monthly-why")

    # Sign up
    page.get_by_role("link", name="Sign up").click()
    check_a11y(page)
    page.get_by_label("Username").fill("e2e_reader")
    page.get_by_label("Password").fill("correct horse battery")
    shot(page, "03-signup")
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url(server + "/")
    assert page.locator(".account-link").inner_text() == "e2e_reader"

    # Live search (HTMX): typing updates results and the URL, no submit
    page.goto(server + "/search")
    check_a11y(page)
    page.locator("#q").press_sequentially("diffusion video", delay=20)
    page.wait_for_url(re.compile(r"/search\?q=diffusion(\+|%20)video$"))
    page.locator("#results mark").first.wait_for()
    assert page.locator("#results [data-card]").count() > 0
    shot(page, "04-search-live")

    # Open a paper
    title = page.locator("#results .card-title a").first.inner_text()
    page.locator("#results .card-title a").first.click()
    page.wait_for_url(re.compile(r"/papers/pl_"))
    assert page.locator("h1").inner_text() == title
    page.locator("#similar ul.similar li a").first.wait_for()  # loaded after the page (HTMX)
    check_a11y(page)
    shot(page, "05-paper")

    # Upvote (HTMX swap) and withdraw
    vote = page.locator(".paper-vote .vote-button")
    before = int(vote.locator(".vote-count").inner_text())
    vote.click()
    page.locator('.paper-vote .vote-button[aria-pressed="true"]').wait_for()
    assert int(page.locator(".paper-vote .vote-count").inner_text()) == before + 1
    page.reload()
    assert page.locator('.paper-vote .vote-button[aria-pressed="true"]').count() == 1

    # Save to a new list, then open and export it
    page.get_by_label("New reading list").fill("E2E list")
    page.get_by_role("button", name="Save to list").click()
    page.locator(".save-form .ok").wait_for()
    page.get_by_role("link", name="Lists").click()
    page.get_by_role("link", name="E2E list").click()
    assert page.locator("[data-card]").count() == 1
    page.get_by_label("Note").fill("Read section 3 first")
    page.get_by_role("button", name="Save note").click()
    page.locator(".note-form .ok").wait_for()
    shot(page, "06-reading-list")
    with page.expect_download() as download:
        page.get_by_role("link", name="Export BibTeX").click()
    text = Path(download.value.path()).read_text(encoding="utf-8")
    assert text.startswith("@misc{") and title.split(":")[0][:20] in text

    # Follow a feed link advertised by an author page
    page.goto(server + "/")
    page.locator("[data-card] .authors a").first.click()
    check_a11y(page)
    shot(page, "07-author")
    href = page.locator('link[rel="alternate"][type="application/atom+xml"]').get_attribute("href")
    feed = feedparser.parse(httpx.get(server + href).content)
    assert not feed.bozo and feed.entries


def test_keyboard_navigation(page, server: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(server + "/papers/month/2025-04")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    page.keyboard.press("Enter")
    page.keyboard.press("j")
    first = page.evaluate("document.activeElement.closest('[data-card]') !== null")
    assert first
    page.keyboard.press("j")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/papers/pl_"))
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "site-q"
    page.keyboard.type("pruning")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/search\?q=pruning"))
    assert page.locator("[data-card]").count() > 0


def test_works_without_javascript(browser, server: str) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(
        java_script_enabled=False, viewport={"width": 1280, "height": 900}
    )
    page = context.new_page()
    page.goto(server + "/search?q=sparse")
    assert page.locator("[data-card]").count() > 0
    page.locator("#q").fill("diffusion")
    page.get_by_role("button", name="Search", exact=True).click()
    page.wait_for_url(re.compile(r"q=diffusion"))
    assert page.locator("mark").count() > 0
    page.locator(".card-vote .vote-button").first.click()  # anonymous: asked to sign in
    page.wait_for_url(re.compile(r"/login\?next="))
    context.close()


def test_mobile_layout_and_404(browser, server: str) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    page.goto(server + "/")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"page scrolls sideways ({width}px)"
    shot(page, "08-mobile-home")
    response = page.goto(server + "/papers/0000.00000")
    assert response.status == 404
    assert "No paper" in page.locator("main").inner_text()
    shot(page, "09-not-found")
    context.close()
