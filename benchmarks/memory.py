#!/usr/bin/env python3
"""Pitlane's memory against hostile segment bodies (issue 11), measured from /proc on this machine:

  M1  30 viewers, each pulling a different 100 MB segment that the origin sends at 3 MB/s
  M2  20 viewers of an endless segment, who all disconnect after 5 s: does Pitlane stop reading?
  M3  one viewer reading 256 kB/s from a fast origin: how much does Pitlane pull ahead of it?
  M4  a media playlist of 200,000 segments: how long the rewritten playlist takes, the RSS peak, and the
      RSS 20 s later (every cache has let it go by then)

Pitlane runs as built (`swift build --show-bin-path`; pass --bin for a release build) with
`segment_cache_mb: 64`, against a Python origin on loopback. Prints RSS figures (peak and after) and what
the origin sent; nothing is asserted (this is a benchmark, not a test).

    python3 benchmarks/memory.py [--bin PATH]
"""
import argparse
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from pitlane_process import Server, binary, rss_mb
CHUNK = 64 * 1024
SENT = {"bytes": 0}
LOCK = threading.Lock()


class Origin(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        path = self.path.split("?")[0]
        if path.startswith("/slow/") and path.endswith(".m3u8"):
            body = "#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXT-X-MEDIA-SEQUENCE:0\n" + "".join(
                f"#EXTINF:10,\nseg{n}.ts\n" for n in range(40))
            return self.whole(body.encode(), "application/vnd.apple.mpegurl")
        if path == "/many/index.m3u8":
            body = "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-PLAYLIST-TYPE:VOD\n" + "".join(
                f"#EXTINF:2,\ns{n}.ts\n" for n in range(200_000)) + "#EXT-X-ENDLIST\n"
            return self.whole(body.encode(), "application/vnd.apple.mpegurl")
        if path.startswith("/slow/seg"):
            return self.stream(100 * 1024 * 1024, rate=3 * 1024 * 1024)
        if path == "/endless/seg0.ts":
            return self.stream(None, rate=4 * 1024 * 1024)
        if path == "/fast/seg0.ts":
            return self.stream(100 * 1024 * 1024, rate=None)
        if path.endswith(".m3u8"):
            folder = path.split("/")[1]
            body = f"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\n/{folder}/seg0.ts\n"
            return self.whole(body.encode(), "application/vnd.apple.mpegurl")
        self.whole(b"no", "text/plain", 404)

    def whole(self, data, kind, status=200):
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def stream(self, size, rate):
        self.send_response(200)
        self.send_header("Content-Type", "video/mp2t")
        if size:
            self.send_header("Content-Length", str(size))
        else:
            self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        sent, block = 0, b"\x47" * CHUNK
        started = time.time()
        try:
            while size is None or sent < size:
                piece = block if size is None else block[: min(CHUNK, size - sent)]
                if size is None:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                else:
                    self.wfile.write(piece)
                sent += len(piece)
                with LOCK:
                    SENT["bytes"] += len(piece)
                if rate:
                    ahead = sent / rate - (time.time() - started)
                    if ahead > 0:
                        time.sleep(ahead)
        except (BrokenPipeError, ConnectionResetError):
            pass


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin")
    args = parser.parse_args()
    executable = binary(args.bin)
    origin = ThreadingHTTPServer(("127.0.0.1", 0), Origin)
    origin.daemon_threads = True
    threading.Thread(target=origin.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{origin.server_address[1]}"
    server = Server(executable, f"""log_level: info
demo: {{enabled: false}}
schedule: {{refresh: false}}
extraction: {{validate: false}}
upstream: {{segment_cache_mb: 64, segment_max_mb: 128, timeout: 5}}
sources:
  - {{id: slow, kind: static, allow_private: true, streams: [{{url: "{base}/slow/index.m3u8", title: Slow, key: slow}}]}}
  - {{id: endless, kind: static, allow_private: true, streams: [{{url: "{base}/endless/index.m3u8", title: Endless, key: endless}}]}}
  - {{id: fast, kind: static, allow_private: true, streams: [{{url: "{base}/fast/index.m3u8", title: Fast, key: fast}}]}}
  - {{id: many, kind: static, allow_private: true, streams: [{{url: "{base}/many/index.m3u8", title: Many, key: many}}]}}
""", prefix="pitlane-memory-")
    url, pid = server.url, server.pid
    try:
        time.sleep(2)
        idle = rss_mb(pid)
        print(f"idle RSS {idle:.0f} MB")

        def segments(stream):
            master = urllib.request.urlopen(url + f"hls/{stream}/master.m3u8", timeout=10).read().decode()
            variant = [line for line in master.splitlines() if line.startswith("v/")][0]
            media = urllib.request.urlopen(url + f"hls/{stream}/{variant}", timeout=10).read().decode()
            return [url + f"hls/{stream}/s/" + line[5:] for line in media.splitlines() if line.startswith("../s/")]

        def pull(target, seconds=None, rate=None, results=None):
            got, started = 0, time.time()
            try:
                with urllib.request.urlopen(target, timeout=60) as response:
                    while True:
                        piece = response.read(CHUNK)
                        if not piece:
                            break
                        got += len(piece)
                        if seconds and time.time() - started > seconds:
                            break
                        if rate:
                            ahead = got / rate - (time.time() - started)
                            if ahead > 0:
                                time.sleep(ahead)
            except Exception as error:  # noqa: BLE001 - a benchmark reports what viewers saw
                got = f"error: {error}"
            if results is not None:
                results.append(got)

        def sample(duration, label):
            peak, until = 0, time.time() + duration
            while time.time() < until:
                peak = max(peak, rss_mb(pid))
                time.sleep(0.2)
            return peak

        # M1
        slow = segments("slow-slow")[:30]
        results = []
        threads = [threading.Thread(target=pull, args=(s,), kwargs={"seconds": 20, "results": results}) for s in slow]
        for t in threads:
            t.start()
        peak = sample(21, "M1")
        for t in threads:
            t.join()
        errors = [r for r in results if isinstance(r, str)]
        time.sleep(5)
        print(f"M1 30 viewers × different 100 MB segments at 3 MB/s for 20 s: RSS peak {peak:.0f} MB, {rss_mb(pid):.0f} MB 5 s after; "
              f"viewer errors {len(errors)}")

        # M2
        endless = segments("endless-endless")[0]
        threads = [threading.Thread(target=pull, args=(endless,), kwargs={"seconds": 5}) for _ in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        with LOCK:
            before = SENT["bytes"]
        time.sleep(5)
        with LOCK:
            after = SENT["bytes"]
        print(f"M2 20 viewers of an endless segment left: the origin sent {(after - before) / 1e6:.1f} MB in the 5 s after; "
              f"RSS {rss_mb(pid):.0f} MB")

        # M3
        with LOCK:
            start = SENT["bytes"]
        fast = segments("fast-fast")[0]
        pull(fast, seconds=12, rate=256 * 1024)
        with LOCK:
            pulled = SENT["bytes"] - start
        print(f"M3 one viewer at 256 kB/s for 12 s (about 3 MB read): the origin sent {pulled / 1e6:.1f} MB; RSS {rss_mb(pid):.0f} MB")

        # M4
        time.sleep(20)
        before = rss_mb(pid)
        master = urllib.request.urlopen(url + "hls/many-many/master.m3u8", timeout=60).read().decode()
        variant = [line for line in master.splitlines() if line.startswith("v/")][0]
        peak = {"rss": before}
        done = threading.Event()

        def watch():
            while not done.is_set():
                peak["rss"] = max(peak["rss"], rss_mb(pid))
                time.sleep(0.05)

        watcher = threading.Thread(target=watch)
        watcher.start()
        started = time.time()
        size = len(urllib.request.urlopen(url + f"hls/many-many/{variant}", timeout=120).read())
        seconds = time.time() - started
        done.set()
        watcher.join()
        time.sleep(20)
        print(f"M4 a 200,000-segment playlist: rewritten ({size / 1e6:.0f} MB) in {seconds:.1f} s; RSS {before:.0f} MB before, "
              f"peak {peak['rss']:.0f} MB, {rss_mb(pid):.0f} MB 20 s after")
    finally:
        server.stop()
        origin.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
