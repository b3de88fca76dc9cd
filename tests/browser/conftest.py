"""The lessons in a real JupyterLab in a real browser: a lab server and a headless Chromium.

Run this tier on its own (it is excluded from the default run)::

    python -m pip install -e ".[browser]"
    python -m pytest -m browser -n 0 tests/browser --screenshots shots/

The server runs `jupyter lab` on a free localhost port with a token, on a temporary copy of
`lessons/` (the repository is never written), with autosave, news and update checks off and
`COURSE_FAST=1`. The browser is the system's Chromium driven by selenium through the system's
chromedriver (nothing downloads a browser); `COURSE_CHROMIUM` and `COURSE_CHROMEDRIVER` override
their paths. Both are stopped at the end: the browser by `quit()`, the server by its process group.
"""
from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from labpage import CHROMEDRIVER, CHROMIUM, LabPage, LabServer, wait_js


def pytest_addoption(parser):
    parser.addoption("--screenshots", metavar="DIR", default=os.environ.get("COURSE_SCREENSHOTS"),
                     help="browser tier: write screenshots of the lessons to DIR for review "
                          "(default: a temporary folder; env COURSE_SCREENSHOTS)")


def _interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


@pytest.fixture(scope="session")
def lab_server(tmp_path_factory):
    # A CI time limit ends pytest with SIGTERM: turn it into KeyboardInterrupt, after which pytest
    # still tears the session down, and with it the server.
    previous = signal.signal(signal.SIGTERM, _interrupt)
    server = LabServer(tmp_path_factory.mktemp("lab"))
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()
        signal.signal(signal.SIGTERM, previous)


@pytest.fixture(scope="session")
def screenshot_dir(request, tmp_path_factory) -> Path:
    folder = request.config.getoption("--screenshots")
    path = Path(folder) if folder else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def chromium(lab_server, tmp_path_factory):
    """Headless Chromium on the lab page, through the system's chromedriver."""
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not os.access(p, os.X_OK)]
    if missing:
        pytest.skip(f"the browser tier needs Chromium and chromedriver; missing {', '.join(missing)} "
                    "(Debian/Ubuntu: apt-get install chromium chromium-driver; or set "
                    "COURSE_CHROMIUM / COURSE_CHROMEDRIVER)")
    os.environ.setdefault("SE_OFFLINE", "true")     # selenium must never fetch a driver or browser
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tmp_path_factory.mktemp("chromium-profile")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 f"--user-data-dir={profile}", "--window-size=1280,1000", "--lang=en-US",
                 "--disable-dev-shm-usage", "--force-device-scale-factor=1"):
        options.add_argument(flag)
    service = Service(CHROMEDRIVER, log_output=str(profile.parent / "chromedriver.log"))
    driver = webdriver.Chrome(service=service, options=options)
    try:
        driver.set_script_timeout(120)
        driver.get(f"{lab_server.url}/lab?token={lab_server.token}")
        wait_js(driver, "return !!(window.jupyterapp && window.jupyterapp.shell)", 90,
                 "JupyterLab did not start in the browser")
        driver.execute_async_script("const done = arguments[0]; window.jupyterapp.restored.then(() => done(true));")
        driver.execute_script("window.jupyterapp.shell.collapseLeft();")    # the lesson fills the screenshots
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def lab_page(chromium, screenshot_dir, lab_server):
    page = LabPage(chromium, screenshot_dir, lab_server)
    yield page
    page.close()


