"""A real server (`transformer-quiz serve`) and a Chromium driven by Playwright.

Screenshots of every step land in artifacts/e2e/ (kept by CI as test artefacts). Console errors
fail the test: a CSP violation or a broken script shows up there first.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REAL_BANK
from tests.live import LiveServer, csrf_client

SYSTEM_CHROMIUMS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
HOW_TO = (
    "no Chromium for the browser tests: apt-get install chromium, or .venv/bin/playwright "
    "install chromium, or set TQ_CHROMIUM=/path/to/chrome"
)
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "e2e"
BANK = Path(os.environ.get("TQ_E2E_BANK", REAL_BANK))


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/e2e/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[LiveServer]:
    with LiveServer(tmp_path_factory.mktemp("e2e"), BANK, workers=1) as s:
        yield s


@pytest.fixture(scope="module")
def api(server: LiveServer):
    with csrf_client(server.url) as c:
        yield c


def find_chromium() -> str | None:
    """TQ_CHROMIUM if set (and there), else a system Chromium on PATH, else Playwright's own
    browser if it has been installed; None if there is none (`make chromium` says how)."""
    if os.environ.get("TQ_CHROMIUM"):
        path = os.environ["TQ_CHROMIUM"]
        return path if Path(path).is_file() else None
    for name in SYSTEM_CHROMIUMS:
        if found := shutil.which(name):
            return found
    try:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as pw:
            path = pw.chromium.executable_path
    except Exception:  # playwright missing or broken: no browser of its own either
        return None
    return path if Path(path).is_file() else None


@pytest.fixture(scope="session")
def browser():
    chromium = find_chromium()
    if chromium is None:
        pytest.fail(HOW_TO)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=chromium,
            args=["--no-sandbox", "--disable-background-networking", "--disable-gpu"],
        )
        yield b
        b.close()


class Shots:
    def __init__(self, test_name: str):
        self.dir = ARTIFACTS / re.sub(r"[^\w-]+", "_", test_name)
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir.mkdir(parents=True)
        self.n = 0

    def __call__(self, page, name: str) -> Path:
        self.n += 1
        path = self.dir / f"{self.n:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def page(browser, server: LiveServer, request):
    ctx = browser.new_context(base_url=server.url, viewport={"width": 1280, "height": 900})
    pg = ctx.new_page()
    errors: list[str] = []
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.set_default_timeout(15_000)
    pg.shots = Shots(request.node.name)
    pg.expected_errors = []  # substrings of console errors a test provokes on purpose
    yield pg
    ctx.close()
    unexpected = [e for e in errors if not any(x in e for x in pg.expected_errors)]
    assert not unexpected, f"browser console errors: {unexpected}"
