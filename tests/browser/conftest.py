"""Headless Chromium (Debian's ``chromium`` + ``chromium-driver``) driven by selenium, against the local runtime.

The runtime is the e2e session's one (``tests/e2e/conftest.py``). Every page a
test opens is checked for console errors and screenshotted to
``build/screenshots/<name>.png``; the paths are printed and recorded on the test's report,
from which the root conftest's summary lists them at the end of every run (``make test`` and CI included).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import PROJECT_DIR, LocalRuntime, local_runtime
from tests.support.waiting import poll

__all__ = ["local_runtime"]
SCREENSHOTS = PROJECT_DIR / "build" / "screenshots"
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
# No network but 127.0.0.1 here: nothing may try to reach out (updates, sync, QUIC probes).
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,900",
)


class Page:
    """One browser tab on the runtime: open a hash route, wait for it, read cells, check the console."""

    def __init__(self, driver: Any, base_url: str) -> None:
        self.driver = driver
        self.base_url = base_url
        self.shots: list[Path] = []
        self.on_shot: Callable[[Path], None] = lambda path: None

    def open(self, path: str, hash_route: str = "") -> None:
        self.driver.get(f"{self.base_url}{path}{hash_route}")

    def wait(self, check: Callable[[], Any], what: str) -> Any:
        def look() -> Any:
            try:
                return check()
            except Exception:  # a stale or absent element: look again
                return None

        return poll(look, what, explain=lambda: f"page:\n{self.driver.page_source[:3000]}", interval=0.1)

    def route(self, hash_route: str) -> None:
        """Go to a console view and wait until it has rendered (main[data-loaded] names the route)."""
        self.driver.execute_script("location.hash = arguments[0]", hash_route)
        self.wait(lambda: self.css("main").get_attribute("data-loaded") == hash_route, f"{hash_route} rendering")

    def css(self, selector: str) -> Any:
        from selenium.webdriver.common.by import By

        return self.driver.find_element(By.CSS_SELECTOR, selector)

    def all(self, selector: str) -> list[Any]:
        from selenium.webdriver.common.by import By

        return list(self.driver.find_elements(By.CSS_SELECTOR, selector))

    def text(self, selector: str) -> str:
        return str(self.css(selector).text)

    def screenshot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.driver.save_screenshot(str(path))
        self.shots.append(path)
        self.on_shot(path)
        print(f"screenshot: {path}")
        return path

    def console_errors(self) -> list[str]:
        return [entry["message"] for entry in self.driver.get_log("browser") if entry["level"] == "SEVERE"]

    def no_console_errors(self) -> None:
        assert self.console_errors() == []


@pytest.fixture(scope="module")
def page(local_runtime: LocalRuntime) -> Iterator[Page]:
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        pytest.skip("chromium and chromium-driver are not installed (.ci/run installs them)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    tab = Page(driver, local_runtime.base_url)
    try:
        yield tab
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
        if tab.shots:
            print("\nscreenshots:\n" + "\n".join(f"  {p}" for p in tab.shots))


@pytest.fixture(autouse=True)
def _list_screenshots(request: pytest.FixtureRequest) -> None:
    """Each screenshot goes on the test's report (``SCREENSHOT_PROPERTY``) for the end-of-run list."""
    from tests.conftest import SCREENSHOT_PROPERTY

    if "page" in request.fixturenames:
        tab: Page = request.getfixturevalue("page")
        tab.on_shot = lambda path: request.node.user_properties.append((SCREENSHOT_PROPERTY, str(path)))
