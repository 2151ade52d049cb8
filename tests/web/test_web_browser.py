"""The web app in a real browser: Debian's Chromium, driven by Playwright, against uvicorn.

A reviewer signs in, claims the next item, decides it and sees the decision log verify; an
auditor and an admin look around. Every page is checked by axe-core (WCAG 2.1 A/AA and best
practice: no violation) and must load under the app's Content-Security-Policy without a
single violation; the screenshots in docs/web.md are taken here (docs/images/web-*.png, written
with ETHICSGATE_UPDATE_SCREENSHOTS=1).
In CI (CI=true) a missing Chromium, axe-core or Playwright fails this module instead of
skipping it.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.axe import AXE, require_axe
from tests.conftest import ROOT
from tests.web.conftest import PASSWORD, LiveServer

CHROMIUM = Path("/usr/bin/chromium") if Path("/usr/bin/chromium").exists() else None
CHROMIUM = CHROMIUM or (Path(p) if (p := shutil.which("chromium")) else None)
IMAGES = ROOT / "docs" / "images"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]


def _requirements() -> pytest.MarkDecorator | None:
    mark = require_axe()
    if mark is not None:
        return mark
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        if os.environ.get("CI"):
            raise RuntimeError("CI must have playwright (a dev extra)") from None
        return pytest.mark.skip(reason="playwright missing (pip install -e '.[dev]')")
    return None


_mark = _requirements()
if _mark is not None:
    pytestmark = _mark


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
            ],
        )
        try:
            yield chromium
        finally:
            chromium.close()


class Visitor:
    """One signed-in person: a CSP-enforcing page, and a twin page that runs axe."""

    def __init__(self, browser: Any, server: LiveServer, *, width: int = 1280) -> None:
        self.server = server
        self.context = browser.new_context(viewport={"width": width, "height": 860})
        self.page = self.context.new_page()
        self.console: list[str] = []
        self.page.on("console", lambda m: self.console.append(f"{m.type}: {m.text}"))
        self.page.on("pageerror", lambda e: self.console.append(f"pageerror: {e}"))
        self.browser = browser

    def goto(self, path: str) -> None:
        response = self.page.goto(self.server.url + path)
        assert response is not None and response.ok, (path, response and response.status)

    def sign_in(self, name: str) -> None:
        self.goto("/login")
        self.page.get_by_label("User name").fill(name)
        self.page.get_by_label("Password").fill(PASSWORD)
        self.page.get_by_role("button", name="Sign in").click()
        self.page.wait_for_url(self.server.url + "/")

    def axe(self, *, as_shown: bool = False) -> list[dict[str, Any]]:
        """Return axe-core's violations on the current page (loaded again in a twin page).

        ``as_shown``: the twin shows the page's HTML as it is now instead of loading its URL
        again (the answer to a form's POST, which a GET would not give).
        """
        state = self.context.storage_state()
        twin = self.browser.new_context(
            viewport={"width": 1280, "height": 860}, bypass_csp=True, storage_state=state
        )
        try:
            page = twin.new_page()
            page.goto(self.page.url)
            if as_shown:
                page.set_content(self.page.content())
            page.add_script_tag(path=str(AXE))
            return page.evaluate(  # type: ignore[no-any-return]
                """(tags) => axe.run(document, {runOnly: {type: "tag", values: tags}})
                  .then(r => r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                     nodes: v.nodes.map(n => n.target.join(" ") + ": " + n.failureSummary)})))""",
                TAGS,
            )
        finally:
            twin.close()

    def check(self, shot: str | None = None, *, full_page: bool = False) -> None:
        """The current page: no axe violation, no CSP or script error; optionally its shot."""
        violations = self.axe()
        assert violations == [], f"{self.page.url}: {violations}"
        if shot:  # docs/images is rewritten only when asked: a test run leaves the tree clean
            png = self.page.screenshot(full_page=full_page)
            assert png.startswith(b"\x89PNG")
            if os.environ.get("ETHICSGATE_UPDATE_SCREENSHOTS") == "1":
                IMAGES.mkdir(parents=True, exist_ok=True)
                (IMAGES / f"web-{shot}.png").write_bytes(png)

    def close(self) -> None:
        assert not [c for c in self.console if c.startswith(("error", "pageerror"))], self.console
        self.context.close()


def test_review_in_a_real_browser(browser: Any, live_server: LiveServer) -> None:
    reviewer = Visitor(browser, live_server)
    reviewer.goto("/")  # anonymous: the sign-in page
    assert reviewer.page.url.startswith(live_server.url + "/login")
    reviewer.check("login")

    reviewer.sign_in("reviewer")
    assert reviewer.page.get_by_role("heading", name="Review queue").is_visible()
    reviewer.check("queue")

    reviewer.page.get_by_role("button", name="Claim the next item").click()
    reviewer.page.wait_for_url("**/items/*")
    page = reviewer.page
    assert page.get_by_text("The item is yours").is_visible()
    assert page.get_by_role("heading", name="The rule").is_visible()
    assert page.get_by_text("EU AI Act (Regulation (EU) 2024/1689), Art. 50").first.is_visible()
    reviewer.check("item", full_page=True)
    item_url = page.url.split("?")[0]

    page.get_by_label("dismissed: it is not a problem (say why)").check()
    page.get_by_label("Reason").fill(
        "The disclosure came with the first message in the transcript."
    )
    page.get_by_role("button", name="Record the decision").click()
    page.wait_for_url("**/items/*?done=decided")
    assert page.get_by_text("Your decision is recorded in the log.").is_visible()
    assert page.get_by_text("dismissed by reviewer").is_visible()
    reviewer.check("decided")

    page.get_by_role("link", name="Decision log").click()
    assert page.get_by_text("The decision log verifies.").is_visible()
    reviewer.check("log")

    page.get_by_role("link", name="Reports").click()
    row = page.get_by_role("row").filter(has_text="bakery-edited")
    assert row.get_by_text("not verified", exact=True).is_visible()
    assert (
        page.get_by_role("row")
        .filter(has_text="bakery-unsigned")
        .get_by_text("unsigned", exact=True)
        .is_visible()
    )
    reviewer.check("reports")

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/login")
    page.goto(item_url)
    assert page.url.startswith(live_server.url + "/login")
    reviewer.close()

    auditor = Visitor(browser, live_server)
    auditor.sign_in("auditor")
    assert auditor.page.get_by_role("button", name="Claim the next item").count() == 0
    auditor.goto(item_url.removeprefix(live_server.url))
    assert auditor.page.get_by_role("button", name="Record the decision").count() == 0
    auditor.check()
    auditor.close()

    admin = Visitor(browser, live_server)
    admin.sign_in("admin")
    admin.goto("/admin/users")
    assert admin.page.get_by_role("cell", name="approver", exact=True).first.is_visible()
    admin.check("users")
    admin.goto("/?status=decided")
    admin.check()
    admin.close()


def test_a_refused_decision_puts_the_focus_on_why(browser: Any, live_server: LiveServer) -> None:
    """Found in review: after a refused form the focus stayed at the top of the page, so a
    keyboard or screen-reader user had to hunt for the error; now it lands on the message."""
    reviewer = Visitor(browser, live_server)
    reviewer.sign_in("reviewer")
    page = reviewer.page
    page.get_by_role("button", name="Claim the next item").click()
    page.wait_for_url("**/items/*")
    page.get_by_label("dismissed: it is not a problem (say why)").check()
    page.get_by_label("Reason").fill("   ")  # blank: refused by the server, not the browser
    page.get_by_role("button", name="Record the decision").click()
    page.wait_for_load_state()
    alert = page.get_by_role("alert")
    assert alert.inner_text() == "A dismissal needs a reason: say why the finding is not a problem."
    focused = page.evaluate(
        "() => [document.activeElement.id, document.activeElement.getAttribute('role')]"
    )
    assert focused == ["problem", "alert"]
    assert page.title().startswith("Error: Item #")
    note = page.get_by_label("Reason")
    assert note.get_attribute("aria-invalid") == "true"
    assert note.get_attribute("aria-describedby") == "problem"
    assert page.get_by_label("dismissed: it is not a problem (say why)").is_checked()  # kept
    page.keyboard.press("Tab")  # from the message, on through the page's order
    assert page.evaluate("() => document.activeElement.id") != "problem"
    assert reviewer.axe(as_shown=True) == []  # the page with its error, as the reviewer sees it
    refused = "error: Failed to load resource: the server responded with a status of 400"
    assert [c for c in reviewer.console if c.startswith("error")] == [f"{refused} (Bad Request)"]
    reviewer.console.clear()  # the 400 of the refused form, as it should be
    reviewer.close()


def test_nothing_but_a_table_runs_off_a_narrow_screen(
    browser: Any, live_server: LiveServer
) -> None:
    """Found by the web QA: 320 CSS pixels wide (a phone, or 400 % zoom; WCAG 1.4.10 Reflow),
    the queue's rule filter, as wide as its longest rule id, ran off the screen, so the page
    scrolled sideways to read it. Wide data tables may scroll (WCAG allows it); nothing else."""
    reviewer = Visitor(browser, live_server, width=320)
    reviewer.sign_in("approver")
    for path in ("/", "/items/1", "/log", "/reports", "/?status=open"):
        reviewer.goto(path)
        beyond = reviewer.page.evaluate(
            """() => [...document.querySelectorAll("body *")]
                .filter(e => !e.closest("table")
                        && e.getBoundingClientRect().right > window.innerWidth + 1)
                .map(e => e.tagName + (e.id ? "#" + e.id : ""))"""
        )
        assert beyond == [], (path, beyond)
    reviewer.close()
