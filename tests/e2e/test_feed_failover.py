"""Failover with continuity (issue 15): streamlink, ffmpeg and hls.js in headless Chromium play one feed that
two fixture CDNs carry; mid-playback the first CDN starts answering 503 (in the second run it refuses
connections, in the third it takes them and never answers). Each client plays on with exactly one discontinuity, nothing in its log that is an
error, no gap longer than one segment, and the feed does not go back while the first CDN has been
healthy for less than the hold."""
import json
import re
import shutil
import subprocess
import time

import pytest

import feed_origin
from browser import chromium_available, make_driver
from conftest import Pitlane

pytestmark = pytest.mark.skipif(
    not (shutil.which("ffmpeg") and shutil.which("streamlink") and chromium_available()),
    reason="ffmpeg, streamlink and chromium are needed (.ci/run installs them)")

PLAY = 20  # seconds of the feed each client plays
FAIL_AFTER = 7  # seconds of playback before the first CDN fails


@pytest.fixture
def feed():
    a, b = feed_origin.start_pair()
    server = Pitlane(f"""log_level: info
demo: {{enabled: false}}
schedule: {{refresh: false}}
extraction: {{validate: false}}
feeds: {{switch_after: 2, switch_back_after: 600}}
sources:
  - {{id: cdna, kind: static, allow_private: true, streams: [{{url: "{a.url}", title: World A, key: world, feed: World}}]}}
  - {{id: cdnb, kind: static, allow_private: true, streams: [{{url: "{b.url}", title: World B, key: world, feed: World}}]}}
""")
    deadline = time.time() + 30
    while time.time() < deadline and len(members(server)) < 2:
        time.sleep(0.2)
    ranked = members(server)
    assert sorted(ranked) == ["cdna-world", "cdnb-world"]
    # Equals rank in the order their sources answered: the CDN that fails is the one playing first.
    first, second = (a, b) if ranked[0] == "cdna-world" else (b, a)
    server.ranked = ranked
    try:
        yield server, first, second
    finally:
        server.stop()
        for cdn in (a, b):
            try:
                cdn.stop()
            except OSError:
                pass


def members(server):
    feeds = server.get_json("/api/feeds")["feeds"]
    return [m["id"] for f in feeds if f["id"] == "feed-world" for m in f["members"]]


HLSJS_START = """
const [url, done] = [arguments[0], arguments[arguments.length - 1]];
import("/app/vendor/hls.mjs").then((module) => {
  const Hls = module.H || module.default;
  const video = document.createElement("video");
  video.muted = true;
  document.body.appendChild(video);
  const hls = new Hls({});
  window.feedTest = { video, errors: [], ccs: [] };
  hls.on(Hls.Events.ERROR, (_, data) => window.feedTest.errors.push(data.type + " " + data.details + (data.fatal ? " fatal" : "")));
  hls.on(Hls.Events.FRAG_CHANGED, (_, data) => window.feedTest.ccs.push(data.frag.cc));
  hls.on(Hls.Events.MEDIA_ATTACHED, () => hls.loadSource(url));
  hls.attachMedia(video);
  video.play().catch(() => {});
  done(true);
}).catch((error) => done(String(error)));
"""


def pts_times(path):
    """The video packets' presentation times in a recorded MPEG-TS file."""
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "packet=pts_time", "-of", "csv=p=0",
                          str(path)], capture_output=True, text=True, timeout=60).stdout
    return sorted(float(line.strip(",")) for line in out.split() if line.strip(",") not in ("", "N/A"))


def assert_continuous(path, client):
    times = pts_times(path)
    assert times, f"{client} recorded nothing"
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert max(gaps) <= feed_origin.SEGMENT, f"{client}: a gap of {max(gaps):.2f} s in the picture"
    assert times[-1] - times[0] >= PLAY - 2 * feed_origin.SEGMENT, f"{client} played {times[-1] - times[0]:.1f} s of {PLAY}"
    # The same encoder on both CDNs: the switch lands on the same moment, so nothing plays twice.
    assert len(times) == len(set(times)), f"{client} got a moment twice"


@pytest.mark.parametrize("fault", ["503", "dead", "silent"])
def test_a_feed_plays_on_when_its_first_cdn_fails(feed, fault, tmp_path):
    server, a, b = feed
    url = server.url + "hls/feed-world/master.m3u8"
    streamlink = subprocess.Popen(
        ["streamlink", "--loglevel", "debug", "--stream-segmented-duration", str(PLAY), "--hls-live-edge", "3", "--force",
         "--output", str(tmp_path / "streamlink.ts"), url, "best"],
        stdout=open(tmp_path / "streamlink.log", "w"), stderr=subprocess.STDOUT)
    ffmpeg = subprocess.Popen(
        ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "level+info", "-i", url, "-map", "0", "-c", "copy", "-t", str(PLAY),
         "-y", str(tmp_path / "ffmpeg.ts")],
        stdout=subprocess.DEVNULL, stderr=open(tmp_path / "ffmpeg.log", "w"))
    driver = make_driver()
    try:
        driver.get(server.url)
        assert driver.execute_async_script(HLSJS_START, url) is True
        deadline = time.time() + 30
        while time.time() < deadline and driver.execute_script("return window.feedTest.video.currentTime") < 0.5:
            time.sleep(0.2)
        samples = []
        started = time.time()
        failed_at = recovered_at = None
        while time.time() - started < PLAY - 4:
            now = time.time()
            if failed_at is None and now - started >= FAIL_AFTER:
                failed_at = now
                {"503": a.fail, "dead": a.stop, "silent": a.silence}[fault]()
            if fault == "503" and failed_at and recovered_at is None and now - failed_at >= 5:
                recovered_at = now
                a.recover()
            samples.append((now, driver.execute_script("return window.feedTest.video.currentTime")))
            time.sleep(0.25)
        state = driver.execute_script("return {errors: window.feedTest.errors, ccs: window.feedTest.ccs}")
    finally:
        driver.quit()
    for process in (streamlink, ffmpeg):
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
    server_log = server.logs()
    (tmp_path / "pitlane.log").write_text(server_log)
    (tmp_path / "hlsjs.json").write_text(json.dumps({"state": state, "samples": samples, "failed_at": failed_at}))

    # The feed switched once, from the first CDN to the second, and did not go back within the hold.
    detail = server.get_json("/api/feeds/feed-world")
    assert [(s["from"], s["to"]) for s in detail["switches"]] == [tuple(server.ranked)], json.dumps(detail["switches"])
    assert detail["current"] == server.ranked[1]
    assert server_log.count("feed switched") == 1

    # hls.js: no error event at all, one discontinuity at most (when the segment that met the failure is
    # answered from the second CDN under the place hls.js already had, hls.js carries its discontinuity
    # counter over, and sees none), the picture never stood still for a segment.
    assert state["errors"] == [], state["errors"]
    ccs = state["ccs"]
    assert all(b - a in (0, 1) for a, b in zip(ccs, ccs[1:])) and ccs[-1] - ccs[0] <= 1, ccs
    stood = 0.0
    longest = 0.0
    for (t0, c0), (t1, c1) in zip(samples, samples[1:]):
        stood = stood + (t1 - t0) if c1 <= c0 else 0.0
        longest = max(longest, stood)
    assert longest < feed_origin.SEGMENT, f"hls.js stood still for {longest:.2f} s"
    assert samples[-1][1] - samples[0][1] >= (samples[-1][0] - samples[0][0]) - feed_origin.SEGMENT

    # streamlink: one discontinuity warning, no error, a continuous recording.
    log = (tmp_path / "streamlink.log").read_text()
    assert streamlink.returncode == 0, log[-3000:]
    assert log.count("Encountered a stream discontinuity") == 1, log[-3000:]
    assert not re.search(r"\[\w+\]\[error\]|Failed to fetch segment|Failed to reload playlist", log), log[-3000:]
    assert_continuous(tmp_path / "streamlink.ts", "streamlink")

    # ffmpeg: no error or warning about the input, a continuous recording.
    log = (tmp_path / "ffmpeg.log").read_text()
    assert ffmpeg.returncode == 0, log[-3000:]
    assert not re.search(r"\[(error|fatal)\]|Failed to open segment|Error when loading", log), log[-3000:]
    assert_continuous(tmp_path / "ffmpeg.ts", "ffmpeg")


def test_the_web_app_plays_a_feed_and_tells_when_it_switched(feed):
    """The watch page offers the feed, plays it, names the member playing, and shows a notice at the switch."""
    from selenium.webdriver.support.ui import WebDriverWait

    from browser import console_errors, screenshot

    server, a, b = feed
    driver = make_driver()
    try:
        driver.get(server.url + "streams")
        WebDriverWait(driver, 20).until(lambda d: d.find_elements("css selector", ".card.feed[data-id='feed-world']"))
        assert "playing" in driver.find_element("css selector", ".card.feed li.playing").text
        driver.get(server.url + "watch?layout=1&tiles=feed-world")
        tile = lambda: driver.execute_script("return (window.pitlane && window.pitlane.tiles()[0]) || {}")
        WebDriverWait(driver, 40, poll_frequency=0.5).until(lambda d: tile().get("currentTime", 0) > 1 and not tile()["paused"])
        WebDriverWait(driver, 10, poll_frequency=0.5).until(lambda d: tile().get("via") == "via " + server.ranked[0][:4])
        a.fail()
        WebDriverWait(driver, 30, poll_frequency=0.5).until(lambda d: (tile().get("notice") or "").startswith("Switched to"))
        screenshot(driver, "watch-feed-switched")
        assert tile()["via"] == "via " + server.ranked[1][:4]
        before = tile()["currentTime"]
        time.sleep(4)
        assert tile()["currentTime"] - before >= 3, "the feed plays on after the switch"
        assert tile()["message"] is None, tile()["message"]
        assert not console_errors(driver), console_errors(driver)
    finally:
        driver.quit()
