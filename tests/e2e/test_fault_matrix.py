"""The fault matrix (issue 11): a real `pitlane serve` against a hostile origin on loopback. For each fault,
the player gets its documented answer within a time bound; after each, /healthz answers and Pitlane's
memory comes back near its idle level. README's "When the upstream misbehaves" table is this file."""
import http.client
import re
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

import fault_origin
from conftest import Pitlane

TIMEOUT = 2  # upstream.timeout
HOLD = 3  # refresh.hold_timeout
# The segment deadline: timeout + segment_deadline_factor (4) × the segment's duration (2 s).
SEGMENT_DEADLINE = TIMEOUT + 4 * 2

# (stream key, origin path, what the player asks, expected status, within seconds)
PLAYLIST_FAULTS = [
    ("p403", "p/403", 503, HOLD + 1),
    ("p404", "p/404", 502, 1),
    ("p410", "p/410", 503, HOLD + 1),
    ("p500", "p/500", 502, 1),
    ("p503", "p/503", 502, 1),
    ("psilent", "p/silent", 504, TIMEOUT + 1),
    ("phangup", "p/hangup", 502, 1),
    ("pdrip", "p/drip", 504, 2 * TIMEOUT + 1),
    ("ptruncated", "p/truncated", 502, 1),
    ("phtml", "p/html", 502, 1),
    ("pempty", "p/empty", 502, 1),
    ("pgarbage", "p/garbage", 502, 1),
    ("phuge", "p/huge", 502, 3),
    ("plongline", "p/longline", 200, 2),
    ("pnul", "p/nul", 200, 1),
    ("putf8", "p/utf8", 502, 1),
    ("pgzip", "p/gzip", 200, 1),
    ("ploop", "p/loop", 502, 2),
    ("phops30", "hop/30", 502, 2),
    ("phops3", "hop/3", 200, 1),
]
SEGMENT_FAULTS = ["s403", "sendless", "sflood", "sempty", "signoresrange", "shuge"]


@pytest.fixture(scope="module")
def faults():
    origin = fault_origin.start()
    base = f"http://127.0.0.1:{origin.server_address[1]}"
    streams = [f'      - {{url: "{base}/{path}/index.m3u8", title: "{key}", key: {key}}}' for key, path, *_ in PLAYLIST_FAULTS]
    streams.append(f'      - {{url: "{base}/p/many/index.m3u8", title: "pmany", key: pmany}}')
    streams += [f'      - {{url: "{base}/s/{key[1:]}/index.m3u8", title: "{key}", key: {key}}}' for key in SEGMENT_FAULTS]
    streams = [s.replace("/s/ignoresrange/", "/s/ignores-range/") for s in streams]
    config = f"""log_level: info
demo: {{enabled: false}}
schedule: {{refresh: false}}
extraction: {{validate: false}}
refresh: {{hold_timeout: {HOLD}, min_spacing: 0}}
upstream: {{timeout: {TIMEOUT}, segment_cache_lifetime: 2s}}
sources:
  - id: f
    kind: static
    allow_private: true
    streams:
""" + "\n".join(streams) + "\n"
    server = Pitlane(config)
    server.wait_for_stream("f-p403")
    time.sleep(1)
    server.idle_rss = rss_mb(server.process.pid)
    yield server
    server.stop()
    origin.shutdown()


def rss_mb(pid):
    return int(re.search(r"VmRSS:\s+(\d+)", Path(f"/proc/{pid}/status").read_text()).group(1)) / 1024


def fetch(url, headers=None, timeout=30):
    """(status, body, seconds) of one GET, errors included."""
    started = time.monotonic()
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read(), time.monotonic() - started
    except urllib.error.HTTPError as error:
        return error.code, error.read(), time.monotonic() - started


def healthy_and_back(server, tolerance=48):
    status, _, _ = fetch(server.url + "healthz", timeout=5)
    assert status == 200
    deadline = time.monotonic() + 30  # caches keep a playlist up to 10 s, then the next trim (5 s)
    while rss_mb(server.process.pid) > server.idle_rss + tolerance and time.monotonic() < deadline:
        time.sleep(0.5)
    rss = rss_mb(server.process.pid)
    assert rss <= server.idle_rss + tolerance, f"RSS {rss:.0f} MB, idle {server.idle_rss:.0f} MB"


@pytest.mark.parametrize("key,path,status,within", PLAYLIST_FAULTS, ids=[case[0] for case in PLAYLIST_FAULTS])
def test_a_playlist_fault_gets_its_answer_in_time(faults, key, path, status, within):
    got, body, seconds = fetch(faults.url + f"hls/f-{key}/master.m3u8")
    assert got == status, body[:300]
    assert seconds <= within, f"{seconds:.1f} s"
    if got == 200:
        variant = next(line for line in body.decode().splitlines() if line.startswith("v/"))
        got, media, seconds = fetch(faults.url + f"hls/f-{key}/{variant}")
        assert got == 200, media[:300]
        assert seconds <= within, f"variant in {seconds:.1f} s"
        assert b"127.0.0.1" not in media, "an upstream URI is left in the rewritten playlist"
        handles = [line for line in media.splitlines() if line.startswith(b"../s/")]
        assert all(len(line) < 24 * 1024 for line in handles), "a handle too long for a player's request line"
    else:
        assert body.strip(), "a failure says why"
    healthy_and_back(faults)


def first_segment(server, key):
    _, master, _ = fetch(server.url + f"hls/f-{key}/master.m3u8")
    variant = next(line for line in master.decode().splitlines() if line.startswith("v/"))
    _, media, _ = fetch(server.url + f"hls/f-{key}/{variant}")
    return server.url + f"hls/f-{key}/s/" + next(line for line in media.decode().splitlines() if line.startswith("../s/"))[5:]


def test_a_segment_rejected_forever_is_503_within_the_hold(faults):
    status, _, seconds = fetch(first_segment(faults, "s403"))
    assert status == 503 and seconds <= HOLD + 1, f"{status} in {seconds:.1f} s"
    healthy_and_back(faults)


def test_an_endless_segment_is_cut_at_its_deadline(faults):
    seconds, received = read_until_cut(first_segment(faults, "sendless"))
    assert SEGMENT_DEADLINE - 1 <= seconds <= SEGMENT_DEADLINE + 2 and received > 0, f"cut after {seconds:.1f} s ({received} bytes)"
    healthy_and_back(faults)


def read_until_cut(url):
    """(seconds, bytes) until Pitlane cut the relay of a 200; a cut is a truncated chunked body."""
    started, received = time.monotonic(), 0
    with urllib.request.urlopen(url, timeout=30) as response:
        assert response.status == 200
        try:
            while piece := response.read(65536):
                received += len(piece)
        except (http.client.IncompleteRead, ConnectionError):
            pass
    return time.monotonic() - started, received


def test_a_flood_segment_is_cut_at_the_size_cap(faults):
    seconds, received = read_until_cut(first_segment(faults, "sflood"))
    assert 32 * 1024 * 1024 <= received <= 64 * 1024 * 1024 and seconds < SEGMENT_DEADLINE, f"cut after {seconds:.1f} s ({received} bytes)"
    healthy_and_back(faults)


def test_an_empty_segment_is_relayed_empty(faults):
    status, body, _ = fetch(first_segment(faults, "sempty"))
    assert (status, body) == (200, b"")
    healthy_and_back(faults)


def test_a_range_answered_with_the_whole_file_is_a_206_of_the_range(faults):
    url = first_segment(faults, "signoresrange")
    whole = bytes(range(256)) * 40
    for first, last in [(100, 199), (5000, 10239), (0, 0)]:
        status, body, _ = fetch(url, headers={"Range": f"bytes={first}-{last}"})
        assert status == 206 and body == whole[first:last + 1], f"bytes={first}-{last}"
    healthy_and_back(faults)


def test_a_segment_over_the_cap_is_502(faults):
    status, body, seconds = fetch(first_segment(faults, "shuge"))
    assert status == 502 and b"segment_max_mb" in body and seconds <= 1
    healthy_and_back(faults)


def test_zz_a_playlist_of_200k_segments_is_served_and_let_go(faults):
    """Last in the module: the 200k-segment rewrite's working set is freed (the caches let it go within
    10 s and the heap is trimmed), but glibc cannot give back every fragmented page: up to about 60 MB stay
    resident on this machine (measured 49 to 63 MB), which would blur the memory checks after it."""
    got, body, seconds = fetch(faults.url + "hls/f-pmany/master.m3u8")
    assert got == 200 and seconds <= 10, f"{got} in {seconds:.1f} s"
    variant = next(line for line in body.decode().splitlines() if line.startswith("v/"))
    got, media, seconds = fetch(faults.url + f"hls/f-pmany/{variant}")
    assert got == 200 and seconds <= 10, f"{got} in {seconds:.1f} s"
    assert media.count(b"../s/") == 200_000 and b"127.0.0.1" not in media
    healthy_and_back(faults, tolerance=96)

