"""A real client nobody here wrote (ffmpeg) plays the demo stream through Pitlane's proxy while the
demo origin's tokens expire every 10 seconds: no HTTP error, every segment in order, none skipped."""
import re
import shutil
import subprocess

import pytest

SERVED = re.compile(r"kind=segment msn=(\d+) .*stream=demo-world .*variant=(\S+) .*resource served")


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg is not installed (.ci/run installs it)")
def test_ffmpeg_plays_through_token_expiries(pitlane_demo_ttl10, tmp_path):
    server = pitlane_demo_ttl10
    server.wait_for_stream("demo-world")
    url = server.url + "hls/demo-world/master.m3u8"
    log_file = tmp_path / "ffmpeg.log"
    with open(log_file, "w") as log:
        result = subprocess.run(
            ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "verbose", "-i", url, "-c", "copy", "-t", "60", "-f", "mpegts", "-y", str(tmp_path / "out.ts")],
            stdout=log, stderr=subprocess.STDOUT, timeout=150,
        )
    ffmpeg_log = log_file.read_text()
    pitlane_log = server.logs()
    assert result.returncode == 0, ffmpeg_log[-3000:]

    errors = [line for line in ffmpeg_log.splitlines() if re.search(r"HTTP error|Server returned|Failed to open segment|failed to open|Error in the pull function|skipping", line, re.I)]
    assert not errors, "\n".join(errors[:20])

    by_variant = {}
    for match in SERVED.finditer(pitlane_log):
        by_variant.setdefault(match.group(2), []).append(int(match.group(1)))
    assert by_variant, "no segment was served"
    played = max(by_variant.values(), key=len)
    unique = list(dict.fromkeys(played))
    assert len(unique) >= 28, f"only {len(unique)} segments delivered: {unique}"
    gaps = [(a, b) for a, b in zip(unique, unique[1:]) if b != a + 1]
    assert not gaps, f"segments out of order or skipped: {gaps}"

    refreshes = len(re.findall(r"stream=demo-world .*stream refreshed", pitlane_log))
    assert refreshes >= 4, f"tokens live 10 s, so 60 s of playback needs refreshes; saw {refreshes}"
    print(f"ffmpeg played {len(unique)} segments ({unique[0]}..{unique[-1]}) through {refreshes} token refreshes")
