#!/usr/bin/env python3
"""Soak (issue 11): Pitlane serving 4 live streams to 10 viewers each for a long time while the origin's
tokens expire every 30 s. Prints RSS every minute, its drift (mean of the last third of the run against
the first third), the errors viewers saw, and the token refreshes Pitlane ran.

The origin (Python, loopback) is a token-checking live CDN: a JSON API hands out playlist URLs signed
until `exp` (now + 30 s); playlists and segments answer 403 once their `exp` has passed. Its streams are
live windows over the demo's low rendition (2 s segments). Each viewer behaves like hls.js: it loads the
master and its variant, then polls the variant every target duration and fetches every segment it has
not fetched yet, from the live edge.

    python3 benchmarks/soak.py [--bin PATH] [--minutes 30] [--streams 4] [--viewers 10]

Nothing is asserted: this is a benchmark. The goals are drift < 10 % and 0 viewer errors.
"""
import argparse
import json
import re
import statistics
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from pitlane_process import ROOT, Server, binary, cpu_seconds, rss_mb
SEGMENTS = [p.read_bytes() for p in sorted((ROOT / "Sources/PitlaneServer/Resources/demo/world/low").glob("*.ts"))]
TTL = 30
WINDOW = 6
COUNTS = {"api": 0, "playlist": 0, "segment": 0, "rejected": 0}
LOCK = threading.Lock()


def count(name):
    with LOCK:
        COUNTS[name] += 1


class Origin(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        url = urlparse(self.path)
        query = parse_qs(url.query)
        if url.path == "/api/streams":
            count("api")
            exp = int(time.time()) + TTL
            base = f"http://127.0.0.1:{self.server.server_address[1]}"
            streams = [{"id": f"s{n}", "name": f"Soak {n}", "hls": f"{base}/live/{n}/master.m3u8?exp={exp}&sig=ok"}
                       for n in range(self.server.streams)]
            return self.whole(json.dumps({"streams": streams}).encode(), "application/json")
        parts = url.path.strip("/").split("/")
        if len(parts) != 3 or parts[0] != "live":
            return self.whole(b"no", "text/plain", 404)
        exp = int(query.get("exp", ["0"])[0])
        if exp < time.time():
            count("rejected")
            return self.whole(b"token expired", "text/plain", 403)
        token = f"exp={exp}&sig=ok"
        name = parts[2]
        if name == "master.m3u8":
            count("playlist")
            body = f"#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=640x360\nlow.m3u8?{token}\n"
            return self.whole(body.encode(), "application/vnd.apple.mpegurl")
        if name == "low.m3u8":
            count("playlist")
            last = int(time.time() // 2) - 1
            first = last - WINDOW + 1
            lines = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-TARGETDURATION:2", f"#EXT-X-MEDIA-SEQUENCE:{first}"]
            for msn in range(first, last + 1):
                lines += ["#EXTINF:2.000,", f"seg{msn}.ts?{token}"]
            return self.whole(("\n".join(lines) + "\n").encode(), "application/vnd.apple.mpegurl")
        match = re.fullmatch(r"seg(\d+)\.ts", name)
        if match:
            count("segment")
            return self.whole(SEGMENTS[int(match.group(1)) % len(SEGMENTS)], "video/mp2t")
        return self.whole(b"no", "text/plain", 404)

    def whole(self, data, kind, status=200):
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        try:
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass


class Viewer(threading.Thread):
    """Loads a stream like hls.js does and keeps up with its live edge until told to stop."""

    def __init__(self, base, stream, stop):
        super().__init__(daemon=True)
        self.base, self.stream, self.stop = base, stream, stop
        self.errors, self.segments, self.last = [], 0, None

    def get(self, url):
        with urllib.request.urlopen(url, timeout=20) as response:
            return response.read()

    def run(self):
        root = f"{self.base}hls/{self.stream}/"
        variant = None
        while not self.stop.is_set():
            started = time.time()
            try:
                if variant is None:
                    master = self.get(root + "master.m3u8").decode()
                    variant = next(line for line in master.splitlines() if line.startswith("v/"))
                media = self.get(root + variant).decode()
                sequence = int(re.search(r"#EXT-X-MEDIA-SEQUENCE:(\d+)", media).group(1))
                uris = [line for line in media.splitlines() if line.startswith("../s/")]
                # Segments are told apart by sequence number (handles change with every token); a new
                # viewer starts three segments from the live edge, as hls.js does.
                start = len(uris) - 3 if self.last is None else self.last + 1 - sequence
                for offset in range(max(0, start), len(uris)):
                    self.get(root + "s/" + uris[offset][5:])
                    self.segments += 1
                    self.last = sequence + offset
            except (urllib.error.URLError, OSError, StopIteration, AttributeError) as error:
                self.errors.append(f"{time.strftime('%H:%M:%S')} {error}")
                variant = None
            self.stop.wait(max(0.1, 2 - (time.time() - started)))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin")
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--streams", type=int, default=4)
    parser.add_argument("--viewers", type=int, default=10)
    args = parser.parse_args()
    executable = binary(args.bin)
    origin = ThreadingHTTPServer(("127.0.0.1", 0), Origin)
    origin.daemon_threads = True
    origin.streams = args.streams
    threading.Thread(target=origin.serve_forever, daemon=True).start()
    api = f"http://127.0.0.1:{origin.server_address[1]}/api/streams"
    server = Server(executable, f"""log_level: info
demo: {{enabled: false}}
schedule: {{refresh: false}}
extraction: {{validate: false}}
sources:
  - id: soak
    kind: json
    allow_private: true
    url: "{api}"
    items: "streams[*]"
    fields: {{url: hls, title: name, key: id}}
""", prefix="pitlane-soak-")
    url, pid = server.url, server.pid
    stop = threading.Event()
    try:
        ids = []
        for _ in range(300):
            ids = [s["id"] for s in json.load(urllib.request.urlopen(url + "api/streams", timeout=10))["streams"]]
            if len(ids) >= args.streams:
                break
            time.sleep(0.2)
        print(f"binary {executable}; streams {sorted(ids)}; idle RSS {rss_mb(pid):.0f} MB", flush=True)
        viewers = [Viewer(url, stream, stop) for stream in sorted(ids) for _ in range(args.viewers)]
        for viewer in viewers:
            viewer.start()
            time.sleep(0.05)
        samples, started = [], time.time()
        cpu_start = cpu_seconds(pid)
        for minute in range(1, int(args.minutes) + 1):
            stop.wait(started + minute * 60 - time.time())
            rss = rss_mb(pid)
            samples.append(rss)
            errors = sum(len(v.errors) for v in viewers)
            print(f"min {minute:3d}: RSS {rss:6.1f} MB, segments served {sum(v.segments for v in viewers)}, viewer errors {errors}, "
                  f"origin rejections {COUNTS['rejected']}", flush=True)
        stop.set()
        for viewer in viewers:
            viewer.join(timeout=30)
        third = max(1, len(samples) // 3)
        first, last = statistics.mean(samples[:third]), statistics.mean(samples[-third:])
        refreshes = len(re.findall(r"stream refreshed", server.log_path.read_text()))
        errors = [e for v in viewers for e in v.errors]
        print(f"RSS first third {first:.1f} MB, last third {last:.1f} MB: drift {100 * (last - first) / first:+.1f} %")
        print(f"viewer errors {len(errors)}; segments served {sum(v.segments for v in viewers)}; "
              f"source runs (token refreshes) {refreshes}, API answers {COUNTS['api']}; origin 403s {COUNTS['rejected']}; "
              f"Pitlane CPU {cpu_seconds(pid) - cpu_start:.0f} s")
        for error in errors[:20]:
            print("  ", error)
    finally:
        stop.set()
        server.stop()
        print(f"log: {server.log_path}")


if __name__ == "__main__":
    main()
