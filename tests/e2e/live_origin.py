"""A live HLS origin on loopback for recovery tests: /primary/ and /backup/ serve the same looping live
stream (the demo's low rendition); POST /control/fail makes /primary/ answer 503 until /control/ok."""
import time
from pathlib import Path

from http_fixture import FixtureHandler, serve

ROOT = Path(__file__).resolve().parents[2]
SEGMENTS = sorted((ROOT / "Sources/PitlaneServer/Resources/demo/world/low").glob("*.ts"))
WINDOW = 5


def media_playlist(now: float, query: str = "") -> str:
    """A sliding five-segment window of the looping stream; `query` goes on every segment URI."""
    last = int(now // 2) - 1
    first = last - WINDOW + 1
    lines = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-TARGETDURATION:2", f"#EXT-X-MEDIA-SEQUENCE:{first}",
             f"#EXT-X-DISCONTINUITY-SEQUENCE:{first // len(SEGMENTS)}"]
    for msn in range(first, last + 1):
        if msn != first and msn % len(SEGMENTS) == 0:
            lines.append("#EXT-X-DISCONTINUITY")
        lines += ["#EXTINF:2.000,", f"{msn % len(SEGMENTS):02d}.ts" + (f"?{query}" if query else "")]
    return "\n".join(lines) + "\n"


class Handler(FixtureHandler):
    def do_POST(self):
        self.server.failing = self.path == "/control/fail"
        self.send(200, "ok")

    def do_GET(self):
        path = self.path.split("?")[0]
        folder, _, name = path.strip("/").partition("/")
        if folder not in ("primary", "backup"):
            return self.send(404, "no")
        if folder == "primary" and self.server.failing:
            return self.send(503, "origin down")
        if name == "live.m3u8":
            return self.send(200, media_playlist(time.time()), "application/vnd.apple.mpegurl")
        if name.endswith(".ts") and name[:-3].isdigit() and int(name[:-3]) < len(SEGMENTS):
            return self.send(200, SEGMENTS[int(name[:-3])].read_bytes(), "video/mp2t")
        return self.send(404, "no")


def start():
    server = serve(Handler)
    server.failing = False
    return server
