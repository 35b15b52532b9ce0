"""Two fixture CDNs carrying one feed (issue 15): the same encoder's two-second segments, continuous for
90 s (made once by ffmpeg), in a live window that moves with the wall clock. Both are in lockstep and
date their segments alike; B numbers them 1000 higher, so Pitlane's own numbering shows. Each CDN can
start answering 503 (`fail()`), answer again (`recover()`), stop answering at all (`stop()`: connections are
refused), or take connections and never answer them (`silence()`: the dead host a firewall drops)."""
import subprocess
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from http_fixture import FixtureHandler, serve

SEGMENT = 2
WINDOW = 5
SECONDS = 90
PROGRAMME_START = datetime(2026, 12, 6, 13, 0, 0, tzinfo=timezone.utc)  # when segment 0 begins on the programme's clock
_segments: list[Path] = []


def segments() -> list[Path]:
    """The stream's segments, encoded once per test session."""
    if not _segments:
        folder = Path(tempfile.mkdtemp(prefix="pitlane-feed-"))
        subprocess.run(
            ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error",
             "-f", "lavfi", "-i", f"testsrc2=size=320x180:rate=25:duration={SECONDS}",
             "-f", "lavfi", "-i", f"sine=frequency=440:duration={SECONDS}",
             "-c:v", "libx264", "-preset", "ultrafast", "-g", "50", "-keyint_min", "50", "-sc_threshold", "0",
             "-c:a", "aac", "-b:a", "64k", "-f", "hls", "-hls_time", str(SEGMENT), "-hls_list_size", "0",
             "-hls_segment_filename", str(folder / "%03d.ts"), str(folder / "index.m3u8")],
            check=True, timeout=120)
        _segments.extend(sorted(folder.glob("*.ts")))
    return _segments


class Handler(FixtureHandler):
    def do_GET(self):
        cdn = self.server.cdn
        if cdn.silent:
            time.sleep(30)
            return
        if cdn.failing:
            return self.send(503, "cdn down")
        name = self.path.split("?")[0].strip("/")
        if name == "live.m3u8":
            return self.send(200, cdn.playlist(), "application/vnd.apple.mpegurl")
        if name.endswith(".ts") and name[:-3].isdigit():
            index = int(name[:-3]) - cdn.shift
            if 0 <= index < len(segments()):
                return self.send(200, segments()[index].read_bytes(), "video/mp2t")
        return self.send(404, "no")


class CDN:
    def __init__(self, name: str, shift: int, started: float):
        self.name = name
        self.shift = shift
        self.started = started
        self.failing = False
        self.silent = False
        self.server = serve(Handler)
        self.server.cdn = self
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/live.m3u8"

    def newest(self) -> int:
        return min(WINDOW - 1 + int((time.time() - self.started) // SEGMENT), len(segments()) - 1)

    def playlist(self) -> str:
        newest = self.newest()
        first = max(0, newest - WINDOW + 1)
        lines = ["#EXTM3U", "#EXT-X-VERSION:3", f"#EXT-X-TARGETDURATION:{SEGMENT}", f"#EXT-X-MEDIA-SEQUENCE:{first + self.shift}"]
        for index in range(first, newest + 1):
            date = PROGRAMME_START + timedelta(seconds=index * SEGMENT)
            lines += [f"#EXT-X-PROGRAM-DATE-TIME:{date.isoformat(timespec='milliseconds').replace('+00:00', 'Z')}",
                      f"#EXTINF:{SEGMENT}.000,", f"{index + self.shift}.ts"]
        return "\n".join(lines) + "\n"

    def fail(self):
        self.failing = True

    def recover(self):
        self.failing = False

    def silence(self):
        self.silent = True

    def stop(self):
        """Stops answering at all: the port is closed, connections are refused."""
        self.server.shutdown()
        self.server.server_close()


def start_pair():
    segments()
    started = time.time()
    return CDN("a", 0, started), CDN("b", 1000, started)
