"""Playwright fixtures: Debian's Chromium driving the live test server.

Browser tests are marked `browser`; they use pytest-django's live_server (a real threaded server
on the test database), log in through the login page, and save screenshots for review under
tests/artifacts/screenshots/.
"""

import os
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make are still
# plain synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
SCREENSHOTS = Path(__file__).resolve().parent.parent / "artifacts" / "screenshots"
PASSWORD = "secret-pass-123"  # tests.factories.UserFactory's password


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: run `make browser-deps`")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    # Playwright's wait_for_function evaluates its predicate as a string, which the site's
    # Content-Security-Policy forbids; test_content_security_policy.py runs with it enforced.
    context = browser.new_context(
        viewport={"width": 1280, "height": 720}, base_url=live_server.url, bypass_csp=True
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def login(page, username: str, password: str = PASSWORD) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture
def media_served(settings):
    """Serve /media/ from this test's MEDIA_ROOT (the site serves media only with DEBUG on)."""
    settings.ROOT_URLCONF = "tests.browser.media_urls"
    return settings.MEDIA_ROOT


@pytest.fixture
def page_errors(page):
    """JavaScript errors raised on the page; tests assert there are none."""
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors
