"""Issue 16: the watch page driven as a fan would, with a mouse, the keys, a finger and a screen reader, in a
real headless Chromium against `pitlane serve` with the demo's four feeds."""
import time

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.ui import WebDriverWait

from browser import console_errors, make_driver, needs_chromium, screenshot, tiles, wait_until_playing

pytestmark = needs_chromium
FEEDS = ["demo-world", "demo-onboard-a", "demo-onboard-b", "demo-pit-lane"]


@pytest.fixture
def driver():
    driver = make_driver(width=1440, height=900)
    yield driver
    driver.quit()


def press(driver, keys):
    driver.find_element(By.TAG_NAME, "body").send_keys(keys)


def tile_element(driver, position):
    """The tile at `position` (1–4) on screen; the DOM keeps tiles in the order they were added."""
    return driver.find_element(By.CSS_SELECTOR, f".grid .tile[data-tile='{tiles(driver)[position - 1]['tile']}']")


def button(driver, position, css):
    return tile_element(driver, position).find_element(By.CSS_SELECTOR, css)


def status(driver):
    return driver.execute_script("return window.pitlane.status()")


def open_view(driver, server, layout, streams, extra=""):
    driver.get(server.url + "watch")
    driver.execute_script("localStorage.clear()")
    driver.get(f"{server.url}watch?layout={layout}&tiles={','.join(streams)}{extra}")


def test_quality_follows_each_tiles_size_not_the_sound(pitlane_demo_ttl10, driver):
    """Defect 1: in 1+3, listening to a small tile must not blur the big one."""
    open_view(driver, pitlane_demo_ttl10, "1+3", FEEDS)
    wait_until_playing(driver, 4)
    WebDriverWait(driver, 10).until(lambda d: [t["levelCap"] for t in tiles(d)] == [1, 0, 0, 0])
    press(driver, "2")
    WebDriverWait(driver, 5).until(lambda d: not tiles(d)[1]["muted"] and tiles(d)[0]["muted"])
    time.sleep(2.5)  # hls.js re-evaluates its size cap every second
    assert [t["levelCap"] for t in tiles(driver)] == [1, 0, 0, 0], "the main tile keeps its 640x360 (not 320x180)"
    assert not console_errors(driver)


def test_every_key_has_an_on_screen_control(pitlane_demo_ttl10, driver):
    """Defects 4 and 5: pause, live, sync, seek back and fullscreen by pointer; L and "Go live" move every
    tile; a "go live" prompt after a pause; S says what it did."""
    open_view(driver, pitlane_demo_ttl10, "2", FEEDS[:2])
    wait_until_playing(driver, 2)
    driver.find_element(By.ID, "play-all").click()
    WebDriverWait(driver, 5).until(lambda d: all(t["paused"] for t in tiles(d)))
    time.sleep(7)
    driver.find_element(By.ID, "play-all").click()
    WebDriverWait(driver, 10).until(lambda d: not any(t["paused"] for t in tiles(d)))
    # Both tiles now sit well behind live, and say so with a button.
    WebDriverWait(driver, 10).until(lambda d: all(t["behind"] for t in tiles(d)))
    assert "behind" in button(driver, 1, "button.live").get_attribute("aria-label")
    driver.find_element(By.ID, "live-all").click()
    WebDriverWait(driver, 10).until(lambda d: not any(t["behind"] for t in tiles(d)))
    # Seek back on one tile; L brings every tile back to live, not only the focused one.
    before = tiles(driver)[1]["latency"]
    button(driver, 2, "button.back").click()
    WebDriverWait(driver, 5).until(lambda d: tiles(d)[1]["latency"] > before + 5)
    press(driver, "1")
    press(driver, "l")
    WebDriverWait(driver, 10).until(lambda d: not any(t["behind"] for t in tiles(d)))
    # S (and its button) says what it did.
    driver.find_element(By.ID, "sync").click()
    WebDriverWait(driver, 5).until(lambda d: "Synced 1 tile to World feed" in status(d))
    # A double click on the picture makes the tile fullscreen; a second leaves.
    ActionChains(driver).double_click(driver.find_elements(By.CSS_SELECTOR, ".grid .tile video")[0]).perform()
    WebDriverWait(driver, 5).until(lambda d: d.execute_script("return document.fullscreenElement?.dataset.tile") == tiles(d)[0]["tile"])
    screenshot(driver, "watch-fullscreen")
    driver.execute_script("document.exitFullscreen()")
    assert not console_errors(driver), console_errors(driver)


def test_sync_says_why_it_cannot(failing_world, driver):
    """Defect 5: S on a stream without PROGRAM-DATE-TIME does not do nothing silently."""
    failing_world.wait_for_stream("primary-race")
    failing_world.wait_for_stream("backup-race")
    open_view(driver, failing_world, "2", ["primary-race", "backup-race"])
    wait_until_playing(driver, 2)
    press(driver, "s")
    WebDriverWait(driver, 5).until(lambda d: "no PROGRAM-DATE-TIME" in status(d))


def test_a_dead_tile_keeps_retrying_and_recovers_by_itself(failing_world, driver):
    """Defect 7: recovery never gives up while the tile is on screen, says what it does, and a dead tile
    does not claim to be "0.0 s behind live"."""
    server = failing_world
    server.wait_for_stream("primary-race")
    open_view(driver, server, "1", ["primary-race"])
    wait_until_playing(driver, 1)
    server.control("fail")
    WebDriverWait(driver, 90, poll_frequency=0.5).until(lambda d: "Retrying" in (tiles(d)[0]["message"] or ""))
    assert tiles(driver)[0]["latencyText"] == "", "a dead tile shows no latency"
    time.sleep(25)  # longer than the old ladder's 11 s
    assert "Retrying" in (tiles(driver)[0]["message"] or ""), tiles(driver)[0]
    server.control("ok")
    WebDriverWait(driver, 60, poll_frequency=0.5).until(lambda d: tiles(d)[0]["message"] is None)
    before = tiles(driver)[0]["currentTime"]
    time.sleep(4)
    assert tiles(driver)[0]["currentTime"] > before + 2, "it plays again without a click"
    assert tiles(driver)[0]["stream"] == "primary-race"


def test_a_stale_stream_id_says_it_is_gone_and_can_be_replaced(pitlane_demo_ttl10, driver):
    """Defect 8: a tile whose stream no source finds any more says so, and its picker does not pretend to
    show another stream."""
    open_view(driver, pitlane_demo_ttl10, "2", ["demo-world", "gone-stream"])
    WebDriverWait(driver, 20).until(lambda d: len(tiles(d)) == 2 and "no longer" in (tiles(d)[1]["message"] or ""))
    button(driver, 2, ".message button").click()  # "Choose a stream" opens the tile's menu
    picker = Select(button(driver, 2, "select.stream"))
    assert picker.first_selected_option.get_attribute("value") == "gone-stream"
    picker.select_by_value("demo-onboard-a")
    wait_until_playing(driver, 2)
    assert tiles(driver)[1]["stream"] == "demo-onboard-a" and tiles(driver)[1]["message"] is None


def test_sound_can_be_mixed_muted_and_survives_a_reload(pitlane_demo_ttl10, driver):
    """Defect 9: M says "muted"; an unfocused tile's volume slider is heard; two tiles can be mixed, each
    at its own volume; focus, mix and mute come back after a reload."""
    open_view(driver, pitlane_demo_ttl10, "2x2", FEEDS)
    wait_until_playing(driver, 4)
    press(driver, "m")
    assert "muted" in button(driver, 1, "button.sound").text
    assert "off" in button(driver, 2, "button.sound").text
    press(driver, "m")
    slider = button(driver, 3, "input.volume")
    driver.execute_script("arguments[0].value = '0.4'; arguments[0].dispatchEvent(new Event('input'))", slider)
    state = tiles(driver)
    assert [t["muted"] for t in state] == [False, True, False, True], "moving a silent tile's volume adds it to the mix"
    assert abs(state[2]["volume"] - 0.4) < 0.01 and state[0]["volume"] == 1
    button(driver, 2, "button.sound").click()
    assert [t["muted"] for t in tiles(driver)] == [False, False, False, True]
    press(driver, "4")
    press(driver, "m")
    assert [t["muted"] for t in tiles(driver)] == [True, True, True, True]
    driver.refresh()
    wait_until_playing(driver, 4)
    state = tiles(driver)
    assert [t["focused"] for t in state] == [False, False, False, True]
    assert all(t["muted"] for t in state) and "muted" in button(driver, 4, "button.sound").text
    press(driver, "m")
    assert [t["muted"] for t in tiles(driver)] == [True, True, True, False], "4 played solo, then M unmuted it"
    assert not console_errors(driver)


def test_accessible_names_live_regions_and_a_calm_overlay(pitlane_demo_ttl10, driver):
    """Defects 11 and 12: controls named per tile, no live region around ticking text, controls stay while
    one has keyboard focus, a focus ring unlike the audible border; no engine badge or top-left overlay;
    engine and figures in a stats panel."""
    open_view(driver, pitlane_demo_ttl10, "2", FEEDS[:2])
    wait_until_playing(driver, 2)
    names = driver.execute_script("return [...document.querySelectorAll('.tile button, .tile input, .tile select')].map(e => e.getAttribute('aria-label') || e.textContent)")
    assert len(names) == len(set(names)), f"every control is named for its tile: {names}"
    assert any("World feed" in name for name in names) and any("Onboard A" in name for name in names)
    live = driver.execute_script("return [...document.querySelectorAll('[aria-live], [role=status], [role=alert]')].map(e => e.textContent)")
    assert not any("behind live" in text or "s behind" in text for text in live), live
    assert driver.find_element(By.ID, "main").get_attribute("aria-live") is None
    # Idle: controls fade, unless one has keyboard focus.
    volume = button(driver, 1, "input.volume")
    driver.execute_script("arguments[0].focus(); document.body.classList.add('idle')", volume)
    time.sleep(0.5)
    assert driver.execute_script("return getComputedStyle(arguments[0].closest('.controls')).opacity", volume) == "1"
    ring = driver.execute_script("""const probe = document.createElement('div'); probe.style.color = 'var(--focus)';
        document.body.append(probe); const colour = getComputedStyle(probe).color; probe.remove(); return colour""")
    border = driver.execute_script("return getComputedStyle(document.querySelector('.tile.audible')).borderTopColor")
    assert ring != border, "the focus ring is not the audible tile's colour"
    # No clutter where broadcasts put the timing tower.
    assert not driver.find_elements(By.CSS_SELECTOR, ".tile .badge.engine")
    tile = tile_element(driver, 1)
    name = tile.find_element(By.CSS_SELECTOR, ".name")
    assert name.rect["y"] > tile.rect["y"] + tile.rect["height"] / 2, "the title sits at the bottom, with the controls"
    # The stats panel: engine, resolution, bitrate, buffer, dropped frames, latency, refreshes.
    button(driver, 1, "button.menu").click()
    WebDriverWait(driver, 5).until(lambda d: tile_element(d, 1).find_element(By.CSS_SELECTOR, ".stats").is_displayed())
    WebDriverWait(driver, 5).until(lambda d: "640×360" in tile_element(d, 1).find_element(By.CSS_SELECTOR, ".stats").text)
    text = tile_element(driver, 1).find_element(By.CSS_SELECTOR, ".stats").text
    for word in ["hls.js 1.5.13", "kbit/s", "Buffer", "Dropped", "behind live", "Token refreshes"]:
        assert word in text, (word, text)
    screenshot(driver, "watch-stats")
    # The quality picker: a fixed rendition, then auto again.
    quality = Select(tile_element(driver, 1).find_element(By.CSS_SELECTOR, "select.quality"))
    assert [o.text for o in quality.options][0] == "Auto"
    quality.select_by_index(1)  # the lowest
    WebDriverWait(driver, 15).until(lambda d: tiles(d)[0]["level"] == 0)
    WebDriverWait(driver, 15).until(lambda d: "320×180" in tile_element(d, 1).find_element(By.CSS_SELECTOR, ".stats").text)
    quality.select_by_visible_text("Auto")
    assert driver.execute_script("return window.pitlane.tiles()[0].autoLevel")
    assert not console_errors(driver)


def test_media_session_names_the_tile_with_the_sound(pitlane_demo_ttl10, driver):
    open_view(driver, pitlane_demo_ttl10, "2", FEEDS[:2])
    wait_until_playing(driver, 2)
    title = lambda: driver.execute_script("return navigator.mediaSession.metadata?.title")
    WebDriverWait(driver, 5).until(lambda d: title() == "World feed")
    press(driver, "2")
    WebDriverWait(driver, 5).until(lambda d: title() == "Onboard A")


def test_on_a_phone_hidden_tiles_load_nothing_and_the_picture_fills_its_box(pitlane_demo_ttl10):
    """Defect 10: tiles off screen stop streaming and resume at the live edge on tap; no layout buttons
    that do nothing; controls take one line; no black band under the 16:9 picture."""
    phone = make_driver(width=390, height=844)
    try:
        open_view(phone, pitlane_demo_ttl10, "2x2", FEEDS)
        wait_until_playing(phone, 4)
        time.sleep(4)
        state = tiles(phone)
        assert [t["visible"] for t in state] == [True, False, False, False]
        assert all(t["paused"] and t["fragsBuffered"] == 0 for t in state[1:]), state
        assert not any(b.is_displayed() for b in phone.find_elements(By.CSS_SELECTOR, ".layouts button"))
        tile = tile_element(phone, 1)
        video = tile.find_element(By.CSS_SELECTOR, "video")
        controls = tile.find_element(By.CSS_SELECTOR, ".controls")
        assert controls.rect["height"] <= 0.25 * video.rect["height"], (controls.rect, video.rect)
        assert abs(tile.rect["height"] - tile.rect["width"] * 9 / 16) <= 6, tile.rect
        phone.find_elements(By.CSS_SELECTOR, ".phone-list button")[2].click()
        WebDriverWait(phone, 5).until(lambda d: tiles(d)[0]["stream"] == "demo-pit-lane")
        wait_until_playing(phone, 4)
        state = tiles(phone)
        assert state[0]["latency"] < 12, "a tile brought on screen starts at the live edge"
        assert state[3]["stream"] == "demo-world" and state[3]["paused"], "the tile that left the screen stops"
        screenshot(phone, "watch-phone-controls")
        assert not console_errors(phone)
    finally:
        phone.quit()
