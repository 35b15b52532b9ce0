"""The web app in a real headless Chromium against a real `pitlane serve` with the demo source."""
import time

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from browser import advance, console_errors, make_driver, needs_chromium, screenshot, tiles, wait_until_playing

pytestmark = needs_chromium
FEEDS = ["demo-world", "demo-onboard-a", "demo-onboard-b", "demo-pit-lane"]


@pytest.fixture
def driver():
    driver = make_driver()
    yield driver
    driver.quit()


def test_calendar_shows_the_next_session_with_a_ticking_countdown(pitlane_demo_ttl10, driver):
    driver.get(pitlane_demo_ttl10.url)
    WebDriverWait(driver, 20).until(lambda d: d.find_elements(By.ID, "countdown"))
    hero = driver.find_element(By.ID, "hero").text.lower()
    assert "next" in hero or "live" in hero
    assert "grand prix" in hero
    first = driver.find_element(By.ID, "countdown").text
    time.sleep(2.2)
    assert driver.find_element(By.ID, "countdown").text != first, "the countdown ticks every second"
    assert len(driver.find_elements(By.CSS_SELECTOR, ".round")) >= 20
    assert driver.find_element(By.CSS_SELECTOR, "a[href='/calendar.ics']")
    screenshot(driver, "calendar")
    assert not console_errors(driver)


def test_streams_page_lists_the_demo_feeds(pitlane_demo_ttl10, driver):
    driver.get(pitlane_demo_ttl10.url + "streams")
    WebDriverWait(driver, 30).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".card.stream")) >= 4)
    text = driver.find_element(By.ID, "streams").text
    for title in ["World feed", "Onboard A", "Onboard B", "Pit lane"]:
        assert title in text
    screenshot(driver, "streams")
    assert not console_errors(driver)


def test_multiview_plays_four_feeds_through_token_expiries_with_one_audible_tile(pitlane_demo_ttl10, driver):
    server = pitlane_demo_ttl10
    driver.get(server.url + "watch?layout=2x2&tiles=" + ",".join(FEEDS))
    wait_until_playing(driver, 4)
    state = tiles(driver)
    assert [t["engine"] for t in state] == ["hlsjs"] * 4, state
    assert all(t["version"] == "1.5.13" for t in state)
    assert sum(not t["muted"] for t in state) == 1 and not state[0]["muted"]

    refreshes_before = server.get_json("/api/streams/demo-world")["refresh"]["count"]
    moved = advance(driver, 15)
    assert all(seconds >= 10 for seconds in moved.values()), moved
    assert all(t["fragsBuffered"] >= 3 for t in tiles(driver)), "hls.js, not native HLS, played"
    assert server.get_json("/api/streams/demo-world")["refresh"]["count"] > refreshes_before, "a token expired and was refreshed"
    driver.execute_script("document.dispatchEvent(new MouseEvent('mousemove'))")  # show the controls
    screenshot(driver, "watch-2x2")

    driver.find_element(By.TAG_NAME, "body").send_keys("3")
    assert [t["muted"] for t in tiles(driver)] == [True, True, False, True]

    driver.find_elements(By.CSS_SELECTOR, ".tile .swap")[3].click()  # the pit lane into the main position
    driver.find_element(By.CSS_SELECTOR, "button[data-layout='1+3']").click()
    assert driver.execute_script("return window.pitlane.layout()") == "1+3"
    assert tiles(driver)[0]["stream"] == "demo-pit-lane"
    assert "layout=1+3" in driver.current_url and "demo-pit-lane" in driver.current_url.split("tiles=")[1].split(",")[0]
    moved = advance(driver, 6)
    assert all(seconds >= 3 for seconds in moved.values()), f"a swap and a layout change keep all four playing: {moved}"
    assert sum(not t["muted"] for t in tiles(driver)) == 1
    driver.execute_script("document.dispatchEvent(new MouseEvent('mousemove'))")
    screenshot(driver, "watch-1+3")
    assert not console_errors(driver), console_errors(driver)


def test_native_hls_plays_when_asked(pitlane_demo_ttl10, driver):
    driver.get(pitlane_demo_ttl10.url + "watch?layout=1&tiles=demo-world&engine=native")
    wait_until_playing(driver, 1)
    state = tiles(driver)[0]
    assert state["engine"] == "native" and state["version"] is None
    moved = advance(driver, 6)
    assert list(moved.values())[0] >= 4
    assert not console_errors(driver)


def test_a_tile_whose_stream_dies_re_resolves_then_offers_the_next_best(failing_world, driver):
    server = failing_world
    server.wait_for_stream("primary-race")
    server.wait_for_stream("backup-race")
    deadline = time.time() + 30
    while time.time() < deadline and any(s["health"] is None for s in server.get_json("/api/streams")["streams"]):
        time.sleep(0.5)
    driver.get(server.url + "watch?layout=1&tiles=primary-race")
    wait_until_playing(driver, 1)
    def primary_runs():
        return next(s for s in server.get_json("/api/sources")["sources"] if s["id"] == "primary")["lastRun"]

    ran = primary_runs()
    server.control("fail")
    WebDriverWait(driver, 90, poll_frequency=0.5).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".tile .message.shown button.next-best"))
    # The static source hands back the same URL, which is not a refresh (the count stays): its run shows.
    assert primary_runs() != ran, "the tile asked Pitlane to re-resolve first"
    button = driver.find_element(By.CSS_SELECTOR, ".tile .message.shown button.next-best")
    assert "Switch to Race (backup)" in button.text
    screenshot(driver, "watch-recovery")
    button.click()
    WebDriverWait(driver, 30).until(lambda d: tiles(d)[0]["stream"] == "backup-race" and tiles(d)[0]["message"] is None)
    wait_until_playing(driver, 1)
    moved = advance(driver, 5)
    assert list(moved.values())[0] >= 3, "the next-best stream plays"
    assert "tiles=backup-race" in driver.current_url


def test_a_phone_shows_one_tile_and_lists_the_others(pitlane_demo_ttl10):
    phone = make_driver(width=390, height=844)
    try:
        phone.get(pitlane_demo_ttl10.url + "watch?layout=2x2&tiles=" + ",".join(FEEDS))
        wait_until_playing(phone, 4)
        visible = [tile for tile in phone.find_elements(By.CSS_SELECTOR, ".tile") if tile.is_displayed()]
        assert len(visible) == 1
        items = [item for item in phone.find_elements(By.CSS_SELECTOR, ".phone-list button") if item.is_displayed()]
        assert [item.text for item in items] == ["▶ Onboard A", "▶ Onboard B", "▶ Pit lane"]
        items[2].click()
        WebDriverWait(phone, 5).until(lambda d: tiles(d)[0]["stream"] == "demo-pit-lane")
        assert tiles(phone)[0]["focused"] and not tiles(phone)[0]["muted"]
        visible = [tile for tile in phone.find_elements(By.CSS_SELECTOR, ".tile") if tile.is_displayed()]
        assert len(visible) == 1 and visible[0].find_element(By.CSS_SELECTOR, ".name").text == "Pit lane"
        assert [item.text for item in phone.find_elements(By.CSS_SELECTOR, ".phone-list button")] == ["▶ Onboard A", "▶ Onboard B", "▶ World feed"]
        screenshot(phone, "watch-phone")
        assert not console_errors(phone)
    finally:
        phone.quit()


def test_adding_streams_grows_the_layout_and_a_watch_link_keeps_the_saved_view(pitlane_demo_ttl10, driver):
    """Issue 16, defects 2, 3 and 6: "+ Add stream" grows the layout, never adds a stream twice or a fifth
    tile; the keys work right after the picker; the Streams page's "Watch" never overwrites the saved view."""
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.select import Select

    server = pitlane_demo_ttl10
    driver.get(server.url + "watch")
    driver.execute_script("localStorage.clear()")
    driver.get(server.url + "watch")
    picker = lambda: Select(driver.find_element(By.CSS_SELECTOR, "select[aria-label='Add a stream']"))
    WebDriverWait(driver, 20).until(lambda d: len(picker().options) > 4)
    for count, stream in enumerate(FEEDS[:3], start=1):
        picker().select_by_value(stream)
        WebDriverWait(driver, 5).until(lambda d: len(tiles(d)) == count)
    assert driver.execute_script("return window.pitlane.layout()") == "1+2"
    assert all(t["visible"] for t in tiles(driver)), "every tile added shows"
    picker().select_by_value(FEEDS[0])
    assert len(tiles(driver)) == 3, "a stream on screen is not added twice"
    picker().select_by_value(FEEDS[3])
    WebDriverWait(driver, 5).until(lambda d: len(tiles(d)) == 4)
    assert driver.execute_script("return window.pitlane.layout()") == "2x2"
    # The keys work straight after the picker: 3 gives the third tile the sound.
    driver.find_element(By.TAG_NAME, "body").send_keys("3")
    WebDriverWait(driver, 5).until(lambda d: tiles(d)[2]["focused"])
    # "⤢ Main" takes the sound along; Space on a focused button presses it and pauses nothing.
    fourth = tiles(driver)[3]["tile"]
    main_button = driver.find_element(By.CSS_SELECTOR, f".tile[data-tile='{fourth}'] button.swap")
    driver.execute_script("arguments[0].focus()", main_button)
    main_button.send_keys(" ")
    WebDriverWait(driver, 5).until(lambda d: tiles(d)[0]["tile"] == fourth and tiles(d)[0]["focused"])
    assert not any(t["paused"] for t in tiles(driver))
    # Removing a tile shrinks the layout: no hole.
    driver.execute_script("document.querySelectorAll('.tile button.remove')[3].click()")
    WebDriverWait(driver, 5).until(lambda d: len(tiles(d)) == 3)
    assert driver.execute_script("return window.pitlane.layout()") == "1+2"
    saved = driver.execute_script("return localStorage.getItem('pitlane.watch')")

    driver.get(server.url + "streams")
    WebDriverWait(driver, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".card.stream a.button.primary"))
    driver.find_element(By.CSS_SELECTOR, ".card.stream a.button.primary").click()
    WebDriverWait(driver, 20).until(lambda d: len(tiles(d)) == 1)
    assert "once=1" in driver.current_url
    assert driver.execute_script("return localStorage.getItem('pitlane.watch')") == saved, "the saved multi-view is kept"
    driver.get(server.url + "watch")
    WebDriverWait(driver, 20).until(lambda d: len(tiles(d)) == 3)
    assert not console_errors(driver)
