"""A CDN tier, proven (issue 14): nginx (Debian's) in front of a real `pitlane serve`, configured as README's
contrib/nginx.conf says. 50 viewers of one live stream, polling its playlist each second and downloading
every new segment for about 14 s while the demo origin's tokens expire every 6 s, cost Pitlane one request per
segment URL and at most one per playlist a second, and every viewer gets every segment."""
import json
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from conftest import ROOT, Pitlane

VIEWERS = 50
SECONDS = 14


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def nginx_config(pitlane_port, port, prefix: Path):
    """contrib/nginx.conf with this run's ports and paths, inside a minimal main configuration."""
    site = (ROOT / "contrib/nginx.conf").read_text()
    site = site.replace("/var/cache/nginx/pitlane", str(prefix / "cache")).replace("127.0.0.1:8080", f"127.0.0.1:{pitlane_port}")
    site = site.replace("listen 80;", f"listen 127.0.0.1:{port};")
    return f"""daemon off;
master_process off;
error_log {prefix}/error.log warn;
pid {prefix}/nginx.pid;
events {{ worker_connections 1024; }}
http {{
    log_format cache '$request_uri $status $upstream_cache_status';
    access_log {prefix}/access.log cache;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    types {{ application/vnd.apple.mpegurl m3u8; video/mp2t ts; }}
{site}
}}
"""


@pytest.fixture
def tier():
    yield from run_tier("demo: {token_ttl: 6}\nschedule: {refresh: false}\nrefresh: {min_spacing: 0}\n")


@pytest.fixture
def locked_tier():
    yield from run_tier("auth: {mode: password}\ndemo: {token_ttl: 6}\nschedule: {refresh: false}\n")


def run_tier(config):
    """A Pitlane with this configuration and nginx in front of it."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    assert Path(nginx).exists(), "nginx (Debian's nginx package) is not installed"
    server = Pitlane(config, now="2026-11-25T12:00:00Z")
    if "password" not in config:
        server.wait_for_stream("demo-world")
    pitlane_port = int(server.url.rstrip("/").rsplit(":", 1)[1])
    prefix = Path(tempfile.mkdtemp(prefix="pitlane-nginx-"))
    port = free_port()
    (prefix / "nginx.conf").write_text(nginx_config(pitlane_port, port, prefix))
    process = subprocess.Popen([nginx, "-p", str(prefix), "-c", str(prefix / "nginx.conf")], stderr=subprocess.PIPE)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.1)
    try:
        yield server, f"http://127.0.0.1:{port}/", prefix
    finally:
        process.terminate()
        process.wait(timeout=10)
        server.stop()


def get(url, headers=None):
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=20) as response:
        return response.status, response.read(), dict(response.headers)


def route_count(metrics: str, route: str) -> int:
    return int(sum(float(value) for value in re.findall(
        r'pitlane_http_request_duration_seconds_count\{route="' + re.escape(route) + r'",method="GET",status="\d+"\} ([0-9.]+)', metrics)))


def test_fifty_viewers_behind_nginx_cost_one_request_per_segment(tier):
    server, front, prefix = tier
    _, master, headers = get(front + "hls/demo-world/master.m3u8")
    assert headers.get("Cache-Control") == "max-age=1, stale-while-revalidate=1"
    variant = next(line for line in master.decode().splitlines() if line.startswith("v/"))
    before = get(server.url + "metrics")[1].decode()
    refreshes_before = server.get_json("/api/streams/demo-world")["refresh"]["count"]
    requested, sequences, failures, lock = set(), set(), [], threading.Lock()

    def viewer():
        """As a player does: from the live edge on, each segment once, by its media sequence number."""
        newest = None
        stop = time.monotonic() + SECONDS
        while time.monotonic() < stop:
            try:
                _, media, _ = get(front + "hls/demo-world/" + variant)
                text = media.decode()
                sequence = int(re.search(r"#EXT-X-MEDIA-SEQUENCE:(\d+)", text).group(1))
                segments = [line for line in text.splitlines() if line.startswith("../s/")]
                numbered = list(enumerate(segments, start=sequence))
                for number, line in numbered[-3:] if newest is None else numbered:
                    if newest is not None and number <= newest:
                        continue
                    newest = number
                    status, body, _ = get(front + "hls/demo-world/s/" + line[5:])
                    if status != 200 or not body.startswith(b"\x47"):
                        failures.append(f"{status} {len(body)} bytes")
                    with lock:
                        requested.add(line)
                        sequences.add(number)
            except (urllib.error.URLError, ConnectionError) as error:
                failures.append(str(error))
            time.sleep(1)

    threads = [threading.Thread(target=viewer) for _ in range(VIEWERS)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=SECONDS + 60)
    elapsed = time.monotonic() - started
    after = get(server.url + "metrics")[1].decode()

    assert not failures, failures[:5]
    log = (prefix / "access.log").read_text()
    segment_requests = route_count(after, "/hls/{stream}/s/{file}") - route_count(before, "/hls/{stream}/s/{file}")
    playlist_requests = route_count(after, "/hls/{stream}/v/{key}.m3u8") - route_count(before, "/hls/{stream}/v/{key}.m3u8")
    assert len(sequences) >= SECONDS // 2 - 1, f"only {len(sequences)} segments seen"
    assert segment_requests == len(requested), f"{segment_requests} Pitlane requests for {len(requested)} segment URLs"
    # A segment has a second URL only when a token refresh sealed it anew while viewers were on both sides.
    assert len(requested) <= len(sequences) + 4, f"{len(requested)} URLs for {len(sequences)} segments"
    assert playlist_requests <= elapsed + 2, f"{playlist_requests} playlist requests in {elapsed:.0f} s"
    assert server.get_json("/api/streams/demo-world")["refresh"]["count"] > refreshes_before, "no token expired during the run"
    print(f"\n{VIEWERS} viewers behind nginx for {elapsed:.0f} s: {len(sequences)} segments under {len(requested)} URLs, {segment_requests} Pitlane "
          f"segment requests, {playlist_requests} Pitlane playlist requests, {log.count(' HIT')} of {log.count(chr(10))} answers from nginx's cache")
    assert log.count(" 200 HIT") >= VIEWERS * len(requested) // 2, "nginx answered the viewers from its cache"


def test_pitlane_never_lets_a_cache_keep_what_it_should_not(tier):
    server, front, _ = tier
    _, master, headers = get(front + "hls/demo-world/master.m3u8")
    assert headers["Cache-Control"] == "max-age=1, stale-while-revalidate=1"
    variant = next(line for line in master.decode().splitlines() if line.startswith("v/"))
    _, media, headers = get(front + "hls/demo-world/" + variant)
    assert headers["Cache-Control"] == "max-age=1, stale-while-revalidate=1"
    segment = next(line for line in media.decode().splitlines() if line.startswith("../s/"))
    _, _, headers = get(front + "hls/demo-world/s/" + segment[5:])
    assert headers["Cache-Control"] == "public, max-age=300, immutable"
    for path in ["hls/nope/master.m3u8", "hls/demo-world/s/forged.ts", "api/streams", "metrics"]:
        try:
            _, _, headers = get(front + path)
        except urllib.error.HTTPError as error:
            headers = dict(error.headers)
        assert headers.get("Cache-Control") == "no-store", f"{path}: {headers.get('Cache-Control')}"


def test_with_accounts_nginx_never_hands_a_signed_in_answer_to_anyone_else(locked_tier):
    from test_sharing import PASSWORD, cli
    server, front, _ = locked_tier
    data = str(server.dir / "data")
    assert cli("users", "add", "alice", "--data-dir", data, "--password-stdin", stdin=PASSWORD + "\n").returncode == 0
    bearer = {"Authorization": "Bearer " + cli("tokens", "create", "--user", "alice", "cdn", "--data-dir", data).stdout.strip()}
    deadline = time.monotonic() + 30
    while "demo-world" not in [s["id"] for s in json.loads(get(server.url + "api/streams", bearer)[1])["streams"]]:
        assert time.monotonic() < deadline, "demo-world never appeared"
        time.sleep(0.2)
    _, master, headers = get(front + "hls/demo-world/master.m3u8", bearer)
    assert headers["Cache-Control"] == "private, max-age=1, stale-while-revalidate=1"
    variant = next(line for line in master.decode().splitlines() if line.startswith("v/"))
    _, media, headers = get(front + "hls/demo-world/" + variant, bearer)
    segment = next(line for line in media.decode().splitlines() if line.startswith("../s/"))
    _, _, headers = get(front + "hls/demo-world/s/" + segment[5:], bearer)
    assert headers["Cache-Control"] == "private, max-age=300, immutable"
    for path in ["hls/demo-world/master.m3u8", "hls/demo-world/" + variant, "hls/demo-world/s/" + segment[5:]]:
        with pytest.raises(urllib.error.HTTPError) as refused:
            get(front + path)
        assert refused.value.code == 401, f"{path} came from nginx's cache without credentials"
    # A playback link is cacheable: its token is in every URL, so nobody else's request matches.
    token = cli("users", "token", "alice", "--data-dir", data).stdout.split()[0]
    _, _, headers = get(front + f"t/{token}/hls/demo-world/master.m3u8")
    assert headers["Cache-Control"] == "max-age=1, stale-while-revalidate=1"
