"""The live page in a real headless Chromium, fed by the real pipeline through a LiveHub.

Needs Debian's chromium and chromium-driver (``apt-get install -y chromium chromium-driver``),
selenium and aiohttp; skips with the reason where any is missing. Set ECHOSR_WEB_SCREENSHOT
to a path to keep the screenshot, and ECHOSR_WEB_DEMO to a demo output folder to show the
demo video through the demo bundle instead of the test bundle.
"""

from __future__ import annotations

import math
import os
import shutil
import urllib.error
import urllib.request
from pathlib import Path

import cv2
import numpy as np
import pytest

pytest.importorskip("aiohttp", reason="the live view needs the 'web' extra (aiohttp)")
webdriver = pytest.importorskip("selenium.webdriver", reason="browser tests need selenium (the 'dev' extra)")

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

from echosr_edge.web import serve  # noqa: E402

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
if not (CHROMIUM and CHROMEDRIVER):
    pytest.skip(
        "browser tests need Debian's chromium and chromium-driver: apt-get install -y chromium chromium-driver",
        allow_module_level=True,
    )
WAIT_S = 30

# Read in one script: the page paints images and labels in one callback, so this is one frame's view.
READ_SHOWN = """
const text = (sel) => document.querySelector(sel).textContent;
const mean = (id) => {
  const c = document.getElementById(id);
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let s = 0;
  for (let i = 0; i < d.length; i += 4) s += d[i];
  return [s / (d.length / 4), c.width, c.height];
};
return {frame: text('#stat-frame'), view: text('#label-view .v'), view_conf: text('#label-view .c'),
        enhanced: text('#label-enhanced .v'), flag: text('#enhanced-flag'),
        frames: Number(document.body.dataset.frames), status: text('#status'),
        original_px: mean('original'), enhanced_px: mean('enhanced')};
"""


@pytest.fixture(scope="module")
def browser():
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1280,800", "--force-device-scale-factor=1", "--hide-scrollbars"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


@pytest.fixture()
def page(browser, live_run):
    """The live page, opened through its token link, on a loopback server that demands the token."""
    with serve(live_run.hub, "127.0.0.1", 0, require_token=True) as handle:
        set_viewport(browser, 1280, 800)
        browser.get_log("browser")  # start each test with an empty console
        browser.get(handle.url)
        wait_for(browser, lambda d: shown(d)["frames"] >= 2)
        yield browser, handle, live_run
        browser.get("about:blank")  # leave before the server stops, or the page retries into the next test
    browser.delete_all_cookies()


def set_viewport(driver, width: int, height: int) -> None:
    """Size the window so that the page itself gets width×height CSS pixels."""
    driver.set_window_size(width, height)
    inner_w, inner_h = driver.execute_script("return [innerWidth, innerHeight];")
    driver.set_window_size(2 * width - inner_w, 2 * height - inner_h)


def wait_for(driver, condition, timeout: float = WAIT_S):
    return WebDriverWait(driver, timeout, poll_frequency=0.05).until(condition)


def shown(driver) -> dict:
    return driver.execute_script(READ_SHOWN)


def severe(driver) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def js_round_percent(p: float) -> str:
    return f"{math.floor(p * 100 + 0.5)}%"


def test_the_page_loads_without_console_errors_and_frames_advance(page):
    driver, handle, _ = page
    assert driver.current_url == handle.base_url  # the token left the address bar
    first = shown(driver)["frames"]
    wait_for(driver, lambda d: shown(d)["frames"] >= first + 5)
    assert shown(driver)["status"] == "live"
    assert severe(driver) == []


def test_the_images_and_labels_shown_are_those_the_pipeline_made_of_one_frame(page):
    driver, _, publisher = page
    seen = set()
    while len(seen) < 6:
        wait_for(driver, lambda d: shown(d)["frame"] not in seen)
        now = shown(driver)
        frame = int(now["frame"])
        seen.add(now["frame"])
        record = publisher.records[frame]
        view = record["labels"]["view"]
        assert now["view"] == view
        assert now["view_conf"] == js_round_percent(record["probabilities"]["view"][view])
        assert now["enhanced"] == ("yes" if record["enhanced"] else "no")
        original_mean, enhanced_mean = publisher.means[frame]
        assert now["original_px"][0] == pytest.approx(original_mean, abs=3.0)  # JPEG-close, same frame
        assert now["enhanced_px"][0] == pytest.approx(enhanced_mean, abs=3.0)
    assert len({publisher.means[int(f)] for f in seen}) > 1  # the frames differ, so the match means something
    assert severe(driver) == []


def test_the_enhancement_toggle_changes_the_pipeline_mode(page):
    driver, _, publisher = page
    assert publisher.pipeline.enhance == "always"
    driver.find_element(By.CSS_SELECTOR, "[data-mode=never]").click()
    wait_for(driver, lambda d: publisher.pipeline.enhance == "never")
    wait_for(driver, lambda d: shown(d)["enhanced"] == "no")
    assert publisher.records[int(shown(driver)["frame"])]["enhanced"] is False
    assert shown(driver)["flag"] == "not enhanced"
    assert driver.find_element(By.CSS_SELECTOR, "[data-mode=never]").get_attribute("aria-pressed") == "true"
    assert not driver.find_element(By.CSS_SELECTOR, "[data-mode=auto]").is_enabled()  # not offered by this run
    driver.find_element(By.CSS_SELECTOR, "[data-mode=always]").click()
    wait_for(driver, lambda d: publisher.pipeline.enhance == "always" and shown(d)["enhanced"] == "yes")
    assert severe(driver) == []


def test_freeze_holds_the_frame_and_snapshot_saves_it_with_its_record(page):
    driver, _, publisher = page
    driver.find_element(By.ID, "freeze").click()
    wait_for(driver, lambda d: publisher.hub.frozen and d.find_element(By.ID, "freeze").text == "Resume")
    held = shown(driver)["frame"]
    wait_for(driver, lambda d: max(publisher.records) >= int(held) + 5)  # the pipeline runs on
    assert shown(driver)["frame"] == held
    driver.find_element(By.ID, "snapshot").click()
    wait_for(driver, lambda d: "Saved" in d.find_element(By.ID, "toast").text)
    (saved,) = sorted((publisher.hub.snapshot_dir).glob("*.json"))
    assert saved.name.startswith(f"snapshot-{int(held):06d}-")
    driver.find_element(By.ID, "freeze").click()
    wait_for(driver, lambda d: shown(d)["frame"] != held)
    assert severe(driver) == []


def test_source_problems_and_a_lost_connection_show_on_the_page(page):
    driver, handle, publisher = page
    publisher.stop()  # the source goes quiet
    banner = lambda d: d.find_element(By.ID, "banner")  # noqa: E731
    publisher.hub.set_status("reconnecting", "rtsp://probe.local/live: connection refused, retry in 2 s")
    wait_for(driver, lambda d: banner(d).is_displayed() and "connection refused" in banner(d).text)
    assert "reconnecting" in banner(driver).text and shown(driver)["status"] == "reconnecting"
    publisher.hub.set_status("stopped", "the pipeline failed: engine error")
    wait_for(driver, lambda d: "pipeline has stopped" in banner(d).text and "engine error" in banner(d).text)
    assert banner(driver).get_attribute("data-tone") == "error"
    handle.stop()  # the device goes away
    wait_for(driver, lambda d: "Connection to the device lost" in banner(d).text)
    assert shown(driver)["status"] == "connection lost"


def test_a_browser_without_the_token_is_refused(page):
    driver, handle, _ = page
    driver.delete_all_cookies()
    driver.get(handle.base_url)
    assert "protected" in driver.find_element(By.TAG_NAME, "body").text
    status = driver.execute_async_script(
        "const done = arguments[0]; fetch('/api/state').then(r => done(r.status), () => done(-1));"
    )
    assert status == 401
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(handle.base_url + "static/app.js", timeout=10)
    assert refused.value.code == 401


def test_portrait_stacks_the_images_and_landscape_puts_them_side_by_side(page):
    driver, _, _ = page
    rect = "const r = document.getElementById(arguments[0]).getBoundingClientRect(); return [r.top, r.bottom, r.left];"
    set_viewport(driver, 390, 844)  # a phone held upright
    wait_for(driver, lambda d: d.execute_script("return matchMedia('(orientation: portrait)').matches"))
    original, enhanced = (driver.execute_script(rect, c) for c in ("original", "enhanced"))
    assert enhanced[0] >= original[1] and enhanced[2] == original[2]
    set_viewport(driver, 1280, 800)  # a tablet on its side
    wait_for(driver, lambda d: d.execute_script("return matchMedia('(orientation: landscape)').matches"))
    original, enhanced = (driver.execute_script(rect, c) for c in ("original", "enhanced"))
    assert enhanced[0] == original[0] and enhanced[2] > original[2]


def test_a_screenshot_shows_both_frames(page, tmp_path):
    driver, _, _ = page
    frames = shown(driver)["frames"]
    wait_for(driver, lambda d: shown(d)["frames"] >= frames + 5, timeout=60)
    path = tmp_path / "web-screenshot.png"
    assert driver.save_screenshot(str(path))
    keep = os.environ.get("ECHOSR_WEB_SCREENSHOT")
    if keep:
        Path(keep).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, keep)
    image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    assert image.shape == (800, 1280)
    r = driver.execute_script("return document.getElementById('original').getBoundingClientRect().toJSON();")
    region = image[int(r["top"]) : int(r["bottom"]), int(r["left"]) : int(r["right"])]
    assert region.size and float(np.std(region)) > 5.0, "the original pane looks blank"
