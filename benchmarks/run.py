#!/usr/bin/env python3
"""Pitlane's benchmarks, side by side in one run on this machine (ratios matter more than absolutes):

  P1  segment relay throughput (MB/s, requests/s): direct origin vs nginx proxy_pass vs Pitlane
      (shared cache on, and off) vs mediaflow-proxy's stream endpoint
  P2  playlist latency p50/p99 at 200 concurrent viewers: direct vs nginx vs Pitlane (rewriting) vs mediaflow
  P3  origin requests per segment with 20 viewers, and origin bytes / client bytes for one viewer
  P4  resident memory of Pitlane (and mediaflow-proxy) idle and with 4 streams × 25 viewers
  P5  seconds from `pitlane serve` start to /api/streams answering from the saved catalogue

Everything runs on loopback: nginx (Debian) serves a fixed set of real HLS segments as the origin and is
also the proxy_pass reference; wrk (Debian) is the load generator; Pitlane is a release build; mediaflow-proxy
is PyPI's, pinned, in its own virtualenv (left out with a note if it cannot be installed). The table is
printed and appended to benchmarks/RESULTS.md with the date, machine and commit.

    python3 benchmarks/run.py [--quick] [--no-mediaflow]
"""
import argparse
import concurrent.futures
import datetime
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MEDIAFLOW = "mediaflow-proxy==2.4.9"
MEDIAFLOW_PASSWORD = "bench"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url, timeout=10):
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.read()


def wait_http(url, timeout=60):
    """Waits until the server answers at all (any HTTP status counts)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            get(url, timeout=2)
            return True
        except urllib.error.HTTPError:
            return True
        except Exception:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer")


def rss_mb(pid) -> float:
    total = 0
    for p in [pid] + children(pid):
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except FileNotFoundError:
            pass
    return total / 1024


def children(pid):
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


def terminate(process):
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()


def wrk(url, connections, seconds, latency=False):
    threads = min(2, connections)
    args = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "15s"] + (["--latency"] if latency else []) + [url]
    out = subprocess.run(args, capture_output=True, text=True, timeout=seconds + 60).stdout
    result = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))}
    transfer = re.search(r"Transfer/sec:\s+([\d.]+)(\w+)", out)
    scale = {"B": 1 / 1e6, "KB": 1e3 / 1e6, "MB": 1, "GB": 1e3}
    result["mbps"] = float(transfer.group(1)) * scale.get(transfer.group(2), 1) if transfer else 0
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    result["errors"] = int(errors.group(1)) if errors else 0
    if latency:
        def ms(label):
            match = re.search(rf"{label}%\s+([\d.]+)(us|ms|s)", out)
            if not match:
                return float("nan")
            value, unit = float(match.group(1)), match.group(2)
            return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value
        result["p50"], result["p99"] = ms("50"), ms("99")
    return result


class Origin:
    """nginx serving the segments (the origin) and a proxy_pass to it (the reference relay)."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.port, self.proxy_port = free_port(), free_port()
        self.log = folder / "access.log"
        conf = folder / "nginx.conf"
        conf.write_text(f"""
worker_processes 2;
pid {folder}/nginx.pid;
error_log {folder}/error.log;
daemon off;
events {{ worker_connections 4096; }}
http {{
  types {{ application/vnd.apple.mpegurl m3u8; video/mp2t ts; }}
  access_log {self.log};
  sendfile on; tcp_nopush on; keepalive_requests 100000;
  server {{ listen 127.0.0.1:{self.port}; root {folder}/www; }}
  upstream origin {{ server 127.0.0.1:{self.port}; keepalive 64; }}
  server {{ listen 127.0.0.1:{self.proxy_port}; access_log off;
    location / {{ proxy_pass http://origin; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_buffering on; }} }}
}}
""")
        self.process = subprocess.Popen(["nginx", "-c", str(conf), "-p", str(folder)], stderr=subprocess.DEVNULL)
        wait_http(f"http://127.0.0.1:{self.port}/live/media.m3u8")

    def requests_for(self, path) -> int:
        return sum(1 for line in self.log.read_text().splitlines() if f"GET {path} " in line)

    def stop(self):
        self.process.send_signal(signal.SIGQUIT)
        self.process.wait(timeout=10)


def make_media(folder: Path, segments=6):
    """Real MPEG-TS segments of about 734 KB (2 s at ~2.9 Mb/s), a media and a master playlist, 4 streams."""
    www = folder / "www" / "live"
    www.mkdir(parents=True)
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=25",
                    "-t", str(segments * 2), "-c:v", "libx264", "-preset", "ultrafast", "-b:v", "2900k", "-minrate", "2900k", "-maxrate", "2900k",
                    "-bufsize", "1000k", "-g", "50", "-sc_threshold", "0", "-f", "hls", "-hls_time", "2", "-hls_playlist_type", "vod",
                    "-hls_segment_filename", str(www / "seg%d.ts"), str(www / "media.m3u8")], check=True)
    for n in range(4):
        (www / f"master{n}.m3u8").write_text("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=2900000,RESOLUTION=1280x720\nmedia.m3u8\n")
    sizes = [p.stat().st_size for p in www.glob("seg*.ts")]
    return statistics.mean(sizes)


class Pitlane:
    def __init__(self, folder: Path, origin_port: int, cache_mb: int, data_dir: Path = None):
        self.port = free_port()
        self.data = data_dir or folder / f"data-{self.port}"
        config = folder / f"pitlane-{self.port}.yaml"
        streams = "\n".join(f"      - {{url: 'http://127.0.0.1:{origin_port}/live/master{n}.m3u8', title: Stream {n}, key: s{n}}}" for n in range(4))
        config.write_text(f"""log_level: error
demo: {{enabled: false}}
schedule: {{refresh: false}}
extraction: {{validate: false}}
upstream: {{segment_cache_mb: {cache_mb}}}
sources:
  - id: bench
    kind: static
    allow_private: true
    streams:
{streams}
""")
        self.started = time.time()
        self.process = subprocess.Popen([str(ROOT / ".build/release/pitlane"), "serve", "--config", str(config), "--port", str(self.port),
                                         "--data-dir", str(self.data)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.base = f"http://127.0.0.1:{self.port}"

    def wait_streams(self, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                if json.loads(get(self.base + "/api/streams", timeout=2))["streams"]:
                    return time.time() - self.started
            except Exception:
                pass
            time.sleep(0.01)
        raise RuntimeError("pitlane did not list its streams")

    def urls(self, n=0):
        master = get(f"{self.base}/hls/bench-s{n}/master.m3u8").decode()
        variant = [l for l in master.splitlines() if l.startswith("v/")][0]
        media = get(f"{self.base}/hls/bench-s{n}/{variant}").decode()
        segment = [l for l in media.splitlines() if l.startswith("../s/")][0][3:]
        return f"{self.base}/hls/bench-s{n}/{variant}", f"{self.base}/hls/bench-s{n}/{segment}"

    def stop(self):
        terminate(self.process)


class Mediaflow:
    def __init__(self, folder: Path):
        self.venv = folder / "mediaflow-venv"
        subprocess.run([sys.executable, "-m", "venv", str(self.venv)], check=True)
        subprocess.run([str(self.venv / "bin/pip"), "install", "-q", MEDIAFLOW], check=True, timeout=600)
        self.port = free_port()
        env = dict(os.environ, API_PASSWORD=MEDIAFLOW_PASSWORD)
        self.process = subprocess.Popen([str(self.venv / "bin/uvicorn"), "mediaflow_proxy.main:app", "--host", "127.0.0.1", "--port", str(self.port),
                                         "--workers", "1", "--log-level", "error"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.base = f"http://127.0.0.1:{self.port}"
        wait_http(self.base + "/", timeout=90)

    def stream(self, url):
        return f"{self.base}/proxy/stream?api_password={MEDIAFLOW_PASSWORD}&d={urllib.request.quote(url, safe='')}"

    def manifest(self, url):
        return f"{self.base}/proxy/hls/manifest.m3u8?api_password={MEDIAFLOW_PASSWORD}&d={urllib.request.quote(url, safe='')}"

    def stop(self):
        terminate(self.process)


def fan(urls, workers):
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        return sum(len(body) for body in pool.map(lambda u: get(u, timeout=30), urls))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="5 s per measurement instead of 10")
    parser.add_argument("--no-mediaflow", action="store_true")
    args = parser.parse_args()
    seconds = 5 if args.quick else 10
    for tool in ["nginx", "wrk", "ffmpeg"]:
        if not shutil.which(tool):
            sys.exit(f"{tool} is missing: apt-get install -y nginx wrk ffmpeg")
    if not (ROOT / ".build/release/pitlane").exists():
        print("building Pitlane in release mode (about 8 minutes the first time) …", flush=True)
        subprocess.run(["swift", "build", "-c", "release", "--product", "pitlane"], cwd=ROOT, check=True)

    folder = Path(tempfile.mkdtemp(prefix="pitlane-bench-"))
    folder.chmod(0o755)  # nginx's workers run as an unprivileged user
    segment_size = make_media(folder)
    origin = Origin(folder)
    rows, notes = [], []
    direct_segment = f"http://127.0.0.1:{origin.port}/live/seg1.ts"
    direct_playlist = f"http://127.0.0.1:{origin.port}/live/media.m3u8"
    nginx_segment = f"http://127.0.0.1:{origin.proxy_port}/live/seg1.ts"
    nginx_playlist = f"http://127.0.0.1:{origin.proxy_port}/live/media.m3u8"
    pitlane = Pitlane(folder, origin.port, cache_mb=64)
    pitlane.wait_streams()
    nocache = Pitlane(folder, origin.port, cache_mb=0)
    nocache.wait_streams()
    time.sleep(1)
    idle_rss = rss_mb(pitlane.process.pid)
    playlist_url, segment_url = pitlane.urls()
    _, nocache_segment = nocache.urls()
    mediaflow = None
    if not args.no_mediaflow:
        try:
            mediaflow = Mediaflow(folder)
        except Exception as error:
            notes.append(f"mediaflow-proxy left out: {error}")

    # P1
    p1 = {"direct": wrk(direct_segment, 10, seconds), "nginx proxy_pass": wrk(nginx_segment, 10, seconds),
          "Pitlane": wrk(segment_url, 10, seconds), "Pitlane, cache off": wrk(nocache_segment, 10, seconds)}
    if mediaflow:
        p1["mediaflow-proxy"] = wrk(mediaflow.stream(direct_segment), 10, seconds)
    # P2
    p2 = {"direct": wrk(direct_playlist, 200, seconds, latency=True), "nginx proxy_pass": wrk(nginx_playlist, 200, seconds, latency=True),
          "Pitlane": wrk(playlist_url, 200, seconds, latency=True)}
    if mediaflow:
        p2["mediaflow-proxy"] = wrk(mediaflow.manifest(direct_playlist), 200, seconds, latency=True)
    # P3: 20 viewers of one new segment, then one viewer of another
    before = origin.requests_for("/live/seg3.ts")
    media = get(playlist_url).decode()
    seg3 = playlist_url.rsplit("/v/", 1)[0] + "/" + [l for l in media.splitlines() if l.startswith("../s/")][3][3:]
    fan([seg3] * 20, 20)
    p3_requests = origin.requests_for("/live/seg3.ts") - before
    before_bytes = sum(int(line.split('"')[2].split()[1]) for line in origin.log.read_text().splitlines() if "GET /live/seg4.ts " in line)
    seg4 = playlist_url.rsplit("/v/", 1)[0] + "/" + [l for l in media.splitlines() if l.startswith("../s/")][4][3:]
    client_bytes = fan([seg4], 1)
    origin_bytes = sum(int(line.split('"')[2].split()[1]) for line in origin.log.read_text().splitlines() if "GET /live/seg4.ts " in line) - before_bytes
    p3_nginx_before = origin.requests_for("/live/seg5.ts")
    fan([f"http://127.0.0.1:{origin.proxy_port}/live/seg5.ts"] * 20, 20)
    p3_nginx = origin.requests_for("/live/seg5.ts") - p3_nginx_before
    # P4: 4 streams × 25 viewers polling playlists and fetching segments
    viewers = []
    for n in range(4):
        playlist, _ = pitlane.urls(n)
        segment_lines = [l for l in get(playlist).decode().splitlines() if l.startswith("../s/")]
        base = playlist.rsplit("/v/", 1)[0] + "/"
        viewers += [base + line[3:] for line in segment_lines] * 25 + [playlist] * 25
    with concurrent.futures.ThreadPoolExecutor(100) as pool:
        future = pool.submit(lambda: fan(viewers, 100))
        peak = 0
        while not future.done():
            peak = max(peak, rss_mb(pitlane.process.pid))
            time.sleep(0.05)
        future.result()
    loaded_rss = max(peak, rss_mb(pitlane.process.pid))
    mediaflow_rss = rss_mb(mediaflow.process.pid) if mediaflow else None
    # P5: restart on the saved catalogue
    data_dir = pitlane.data
    pitlane.stop()
    restarted = Pitlane(folder, origin.port, cache_mb=64, data_dir=data_dir)
    startup = restarted.wait_streams()
    restarted.stop()
    nocache.stop()
    if mediaflow:
        mediaflow.stop()
    origin.stop()

    nginx_mbps = p1["nginx proxy_pass"]["mbps"]
    lines = [f"### {datetime.date.today()} · {platform.node()} · {os.cpu_count()} cores · commit {commit()}", "",
             f"Segments of {segment_size / 1024:.0f} KB; {seconds} s per measurement; wrk -c10 (P1), -c200 (P2).", "",
             "| measure | direct | nginx proxy_pass | Pitlane | Pitlane, cache off | mediaflow-proxy |", "|---|---|---|---|---|---|"]

    def cell(table, name, key, fmt):
        return fmt(table[name][key]) if name in table else "–"
    names = ["direct", "nginx proxy_pass", "Pitlane", "Pitlane, cache off", "mediaflow-proxy"]
    lines.append("| P1 relay MB/s (× nginx) | " + " | ".join(cell(p1, n, "mbps", lambda v: f"{v:.0f} ({v / nginx_mbps:.2f}×)") for n in names) + " |")
    lines.append("| P1 requests/s | " + " | ".join(cell(p1, n, "rps", lambda v: f"{v:.0f}") for n in names) + " |")
    lines.append("| P2 playlist p50 / p99 ms at c=200 | " + " | ".join(
        f"{p2[n]['p50']:.1f} / {p2[n]['p99']:.1f}" if n in p2 else "–" for n in names) + " |")
    lines.append(f"| P3 origin requests for 20 viewers of one segment | – | {p3_nginx} | {p3_requests} | – | – |")
    lines.append(f"| P3 origin bytes / client bytes, one viewer | – | – | {origin_bytes / max(client_bytes, 1):.2f} | – | – |")
    lines.append(f"| P4 RSS MB idle / 4 streams × 25 viewers | – | – | {idle_rss:.0f} / {loaded_rss:.0f} | – | {f'{mediaflow_rss:.0f} (after load)' if mediaflow_rss else '–'} |")
    lines.append(f"| P5 seconds to /api/streams from the saved catalogue | – | – | {startup:.2f} | – | – |")
    errors = {n: r["errors"] for table in (p1, p2) for n, r in table.items() if r["errors"]}
    if errors:
        notes.append(f"non-2xx responses during load: {errors}")
    lines += [""] + [f"- {note}" for note in notes] + [""]
    text = "\n".join(lines)
    print(text)
    with open(ROOT / "benchmarks/RESULTS.md", "a") as results:
        results.write(text + "\n")
    shutil.rmtree(folder, ignore_errors=True)


def commit():
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    except Exception:
        return "?"


if __name__ == "__main__":
    main()
