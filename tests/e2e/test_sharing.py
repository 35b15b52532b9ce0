"""Sharing Pitlane: `auth.mode: password` with a real `pitlane serve`, a user added by the CLI, the sign-in
flow in headless Chromium (cookie session, CSP, sign-out) and a real player (ffmpeg) on a playback link."""
import json
import shutil
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from browser import console_errors, make_driver, needs_chromium, screenshot
from conftest import Pitlane, pitlane_binary

PASSWORD = "correct horse battery"


def cli(*args, stdin=None):
    return subprocess.run([str(pitlane_binary()), *args], input=stdin, capture_output=True, text=True, timeout=60)


@pytest.fixture
def shared():
    server = Pitlane("auth:\n  mode: password\ndemo:\n  token_ttl: 10\nschedule:\n  refresh: false\n", now="2026-11-25T12:00:00Z")
    data = str(server.dir / "data")
    added = cli("users", "add", "alice", "--data-dir", data, "--password-stdin", stdin=PASSWORD + "\n")
    assert added.returncode == 0, added.stderr
    server.data = data
    try:
        yield server
    finally:
        server.stop()


def status(url, headers=None):
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def playback_prefix(server):
    token = cli("users", "token", "alice", "--data-dir", server.data)
    assert token.returncode == 0, token.stderr
    return "t/" + token.stdout.strip() + "/"


def test_without_signing_in_the_api_and_the_proxy_answer_401(shared):
    assert status(shared.url + "api/streams")[0] == 401
    assert status(shared.url + "hls/demo-world/master.m3u8")[0] == 401
    assert status(shared.url + "healthz")[0] == 200


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg is not installed (.ci/run installs it)")
def test_a_player_plays_from_its_playback_link_until_the_link_is_reset(shared, tmp_path):
    prefix = playback_prefix(shared)
    code, playlist = status(shared.url + prefix + "playlist.m3u")
    assert code == 200 and shared.url + prefix + "hls/demo-world/master.m3u8" in playlist
    url = shared.url + prefix + "hls/demo-world/master.m3u8"
    result = subprocess.run(["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-i", url, "-c", "copy", "-t", "8", "-f", "mpegts", "-y",
                             str(tmp_path / "out.ts")], capture_output=True, text=True, timeout=90)
    assert result.returncode == 0, result.stderr[-2000:]
    assert (tmp_path / "out.ts").stat().st_size > 100_000
    assert cli("users", "token", "alice", "--reset", "--data-dir", shared.data).returncode == 0
    # The server remembers a credential for 2 s (segments come many a second): the CLI's reset, made in
    # another process, takes hold within that.
    deadline = time.time() + 3.5
    while status(url)[0] != 401 and time.time() < deadline:
        time.sleep(0.2)
    assert status(url)[0] == 401, "the old link stops within 2 s of the reset"


@needs_chromium
def test_sign_in_watch_and_sign_out_in_chromium(shared):
    driver = make_driver()
    try:
        driver.get(shared.url + "watch?layout=1&tiles=demo-world")
        WebDriverWait(driver, 20).until(lambda d: "/login" in d.current_url)
        assert "next=%2Fwatch" in driver.current_url
        driver.find_element(By.ID, "name").send_keys("alice")
        driver.find_element(By.ID, "password").send_keys("not the password")
        driver.find_element(By.ID, "submit").click()
        WebDriverWait(driver, 10).until(lambda d: "wrong name or password" in d.find_element(By.ID, "message").text)

        driver.find_element(By.ID, "password").clear()
        driver.find_element(By.ID, "password").send_keys(PASSWORD)
        driver.find_element(By.ID, "submit").click()
        WebDriverWait(driver, 20).until(lambda d: d.current_url.endswith("/watch?layout=1&tiles=demo-world"))
        cookie = driver.get_cookie("pitlane_session")
        assert cookie and cookie["httpOnly"] and cookie["sameSite"] == "Lax"
        assert driver.execute_script("return document.cookie").find("pitlane_session") < 0, "scripts cannot read the session"
        WebDriverWait(driver, 20).until(lambda d: "Signed in as alice" in d.find_element(By.CSS_SELECTOR, "header.top").text)
        WebDriverWait(driver, 60, poll_frequency=0.5).until(
            lambda d: any(t["currentTime"] > 1 for t in d.execute_script("return window.pitlane ? window.pitlane.tiles() : []")))
        screenshot(driver, "signed-in-watch")

        driver.get(shared.url + "settings")
        WebDriverWait(driver, 20).until(lambda d: d.find_elements(By.ID, "playback-link"))
        link = driver.find_element(By.ID, "playback-link").get_attribute("value")
        assert "/t/" in link and link.endswith("/playlist.m3u")
        assert status(link)[0] == 200, "the settings page's link works in a player without cookies"
        # Every page so far (sign-in, watch, settings) under the Content-Security-Policy: a violation would be
        # a console error. The one expected error is the wrong password's 401.
        errors = [e for e in console_errors(driver) if "/api/login" not in e["message"]]
        assert not errors, errors

        driver.find_element(By.XPATH, "//button[text()='Sign out']").click()
        WebDriverWait(driver, 10).until(lambda d: "/login" in d.current_url)
        code = driver.execute_script("return fetch('/api/streams').then(r => r.status)")
        assert code == 401
    finally:
        driver.quit()


def test_serve_refuses_to_listen_beyond_loopback_without_accounts(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text("demo: {enabled: false}\n")
    result = cli("serve", "--config", str(config), "--host", "0.0.0.0", "--port", "0", "--data-dir", str(tmp_path / "data"))
    assert result.returncode == 2
    assert "refusing to listen on 0.0.0.0 without accounts" in result.stderr


@needs_chromium
def test_the_sign_in_page_never_sends_a_browser_to_another_site(shared):
    driver = make_driver()
    try:
        for next_value in ["/\t/evil.example/", "//evil.example/", "/\\evil.example/", "https://evil.example/", "/.//evil.example/", "/a/..//evil.example/"]:
            driver.delete_all_cookies()
            driver.get(shared.url + "login?next=" + urllib.parse.quote(next_value, safe=""))
            WebDriverWait(driver, 10).until(lambda d: d.find_elements(By.ID, "name"))
            driver.find_element(By.ID, "name").send_keys("alice")
            driver.find_element(By.ID, "password").send_keys(PASSWORD)
            driver.find_element(By.ID, "submit").click()
            WebDriverWait(driver, 10).until(lambda d: "/login" not in d.current_url)
            assert driver.current_url.startswith(shared.url), (next_value, driver.current_url)
    finally:
        driver.quit()


def test_the_account_commands_say_what_went_wrong_in_one_line(tmp_path):
    data = str(tmp_path / "data")
    assert cli("users", "list", "--data-dir", data).stdout.startswith("No users.")
    assert cli("users", "add", "alice", "--data-dir", data, "--password-stdin", stdin=PASSWORD + "\n").returncode == 0
    again = cli("users", "add", "alice", "--data-dir", data, "--password-stdin", stdin=PASSWORD + "\n")
    assert again.returncode == 1 and again.stderr.strip() == "pitlane: a user named 'alice' already exists"
    short = cli("users", "add", "bob", "--data-dir", data, "--password-stdin", stdin="short\n")
    assert short.returncode == 1 and "at least 8 characters" in short.stderr
    bad = cli("users", "add", "-x", "--data-dir", data, "--password-stdin", stdin=PASSWORD + "\n")
    assert bad.returncode != 0
    missing = cli("users", "passwd", "nobody", "--data-dir", data, "--password-stdin", stdin=PASSWORD + "\n")
    assert missing.returncode == 1 and "no user named 'nobody'" in missing.stderr
    created = cli("tokens", "create", "--user", "alice", "nightly", "--data-dir", data)
    assert created.returncode == 0 and created.stdout.strip().startswith("pl_")
    listed = cli("tokens", "list", "--data-dir", data).stdout
    assert "nightly" in listed and created.stdout.strip() not in listed, "a token is shown once, never listed"
    token_id = listed.splitlines()[1].split()[0]
    assert cli("tokens", "revoke", token_id, "--data-dir", data).returncode == 0
    assert cli("tokens", "list", "--data-dir", data).stdout.startswith("No API tokens.")
    assert oct((tmp_path / "data" / "accounts.sqlite").stat().st_mode & 0o777) == "0o600"
    assert cli("users", "remove", "alice", "--data-dir", data).returncode == 0
