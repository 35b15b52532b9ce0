"""Headless Chromium (Debian's chromium + chromium-driver) driven by Selenium, for the web app's tests."""
import os
import shutil
import time
from pathlib import Path

import pytest

OUTPUT = Path(os.environ.get("PITLANE_TEST_OUTPUT", Path(__file__).resolve().parents[2] / "test-output")) / "browser"


def chromium_available() -> bool:
    return shutil.which("chromium") is not None and shutil.which("chromedriver") is not None


def make_driver(width=1400, height=900):
    os.environ.setdefault("SE_OFFLINE", "true")  # never download a driver
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--autoplay-policy=no-user-gesture-required",
                     "--disable-dev-shm-usage", f"--window-size={width},{height}", "--mute-audio"]:
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)


def screenshot(driver, name):
    OUTPUT.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(OUTPUT / f"{name}.png"))


def console_errors(driver):
    return [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


needs_chromium = pytest.mark.skipif(not chromium_available(), reason="chromium and chromedriver are not installed (.ci/run installs them)")


# The watch page exposes what every tile does as window.pitlane.tiles().
def tiles(driver):
    return driver.execute_script("return window.pitlane ? window.pitlane.tiles() : []")


def wait_until_playing(driver, count, timeout=60):
    """`count` tiles, every one on screen playing (a tile off screen is paused and loads nothing)."""
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, timeout, poll_frequency=0.5).until(
        lambda d: len(tiles(d)) == count and all(t["currentTime"] > 0.5 and not t["paused"] for t in tiles(d) if t.get("visible", True)))


def advance(driver, seconds):
    """currentTime of every tile after `seconds` of wall time, minus before."""
    before = {t["tile"]: t["currentTime"] for t in tiles(driver)}
    time.sleep(seconds)
    return {t["tile"]: t["currentTime"] - before[t["tile"]] for t in tiles(driver)}
