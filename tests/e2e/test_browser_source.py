"""A `browser` source end to end: Pitlane's headless Chromium finds a playlist that only the page's
script knows, and ffmpeg (a client nobody here wrote) plays it through the proxy, with the cookies and
header the page used, across token expiries that each need the page run again."""
import re
import shutil
import subprocess
import time

import pytest

from conftest import Pitlane


@pytest.mark.skipif(shutil.which("ffmpeg") is None or shutil.which("chromium") is None, reason="needs ffmpeg and chromium (.ci/run installs both)")
def test_ffmpeg_plays_a_stream_only_a_browser_finds(tmp_path):
    from scripted_origin import TTL, start

    origin = start()
    port = origin.server_address[1]
    server = Pitlane(
        "log_level: debug\ndemo:\n  enabled: false\nschedule:\n  refresh: false\n"
        f"sources:\n  - id: scripted\n    kind: browser\n    url: http://127.0.0.1:{port}/watch.html\n    allow_private: true\n    wait: 10\n"
    )
    try:
        deadline = time.time() + 60
        streams = []
        while time.time() < deadline and not streams:
            streams = [s for s in server.get_json("/api/streams")["streams"] if s["source"] == "scripted"]
            time.sleep(0.3)
        assert streams, "the browser source found nothing:\n" + server.logs()[-3000:]
        assert streams[0]["title"] == "Scripted Live"
        url = server.url + f"hls/{streams[0]['id']}/master.m3u8"
        log_file = tmp_path / "ffmpeg.log"
        seconds = 3 * TTL
        with open(log_file, "w") as log:
            result = subprocess.run(
                ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "verbose", "-i", url, "-c", "copy", "-t", str(seconds), "-f", "mpegts", "-y",
                 str(tmp_path / "out.ts")],
                stdout=log, stderr=subprocess.STDOUT, timeout=seconds + 90,
            )
        ffmpeg_log = log_file.read_text()
        pitlane_log = server.logs()
        assert result.returncode == 0, ffmpeg_log[-3000:]
        errors = [line for line in ffmpeg_log.splitlines() if re.search(r"HTTP error|Server returned|Failed to open segment|failed to open|skipping", line, re.I)]
        assert not errors, "\n".join(errors[:20])
        refreshes = len(re.findall(r"stream=scripted-.* stream refreshed", pitlane_log))
        assert refreshes >= 2, f"tokens live {TTL} s, so {seconds} s of playback needs the page run again; saw {refreshes}"
        assert origin.rejected == 0, "every request carried the page's cookies, header and Referer"
        assert origin.segments >= seconds // 2 - 2
        sources = server.get_json("/api/sources")["sources"]
        notes = next(s for s in sources if s["id"] == "scripted")["notes"]
        assert notes and "playlist(s) seen" in notes[0], notes
        print(f"ffmpeg played {origin.segments} segments through {refreshes} browser refreshes ({origin.expired} expired requests held)")
    finally:
        server.stop()
        origin.shutdown()
