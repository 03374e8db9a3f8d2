"""The live page over HTTPS on the LAN address, in Chromium that accepts exactly the printed certificate."""

from __future__ import annotations

import base64
import hashlib
import socket

import pytest

from tests.runtime.web.test_browser import CHROMEDRIVER, CHROMIUM, set_viewport, severe, shown, wait_for, webdriver

from echosr_edge.runtime.web import serve  # noqa: E402
from echosr_edge.runtime.web.auth import reachable_host  # noqa: E402
from echosr_edge.runtime.web.tls import choose_tls  # noqa: E402


def _spki_pin(cert_path) -> str:
    """base64 SHA-256 of the certificate's public key: Chromium's --ignore-certificate-errors-spki-list."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    spki = cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(hashlib.sha256(spki).digest()).decode()


@pytest.fixture()
def tls(tmp_path):
    host = reachable_host("0.0.0.0")
    try:
        socket.inet_aton(host)
    except OSError:
        pytest.skip(f"no IPv4 non-loopback address here ({host!r})")
    return host, choose_tls("0.0.0.0", False, folder=tmp_path / "state", shown_host=host)


@pytest.fixture()
def pinned_browser(tls):
    from selenium.webdriver.chrome.service import Service

    _, files = tls
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1280,800",
                "--force-device-scale-factor=1", f"--ignore-certificate-errors-spki-list={_spki_pin(files.cert)}"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


def test_over_https_on_the_lan_address_the_model_pane_is_titled_honestly_and_can_be_hidden(pinned_browser, live_run, tls):
    from echosr_edge.runtime.enhanced_view import SRCheck, pane_title

    host, files = tls
    driver = pinned_browser
    below = SRCheck("student", 4, 16, sr_psnr_db=24.0, bicubic_psnr_db=26.0)  # as WebSink sets it for such a model
    live_run.hub.pane = {"title": pane_title(below), "sr_check": below.to_dict()}
    with serve(live_run.hub, "0.0.0.0", 0, tls=files) as handle:
        assert handle.url.startswith(f"https://{host}:")
        set_viewport(driver, 1280, 800)
        driver.get(handle.url)
        wait_for(driver, lambda d: shown(d)["frames"] >= 3)
        assert driver.current_url == handle.base_url and shown(driver)["status"] == "live"
        assert driver.execute_script("return location.protocol") == "https:"
        title = driver.execute_script("return document.getElementById('enhanced-title').textContent")
        assert title == pane_title(below) and "not an enhancement" in title
        wait_for(driver, lambda d: shown(d)["enhanced"] == "SR, below bicubic")  # never "enhanced" below bicubic
        assert shown(driver)["flag"] == "SR applied (below bicubic)"
        driver.find_element("id", "hide-enhanced").click()
        wait_for(driver, lambda d: d.execute_script("return document.getElementById('enhanced-pane').hidden"))
        assert driver.execute_script("return document.getElementById('original').getBoundingClientRect().width") > 600
        assert severe(driver) == []
        driver.get("about:blank")
