"""Starts a real `pitlane serve` for end-to-end tests with real clients (ffmpeg)."""
import json
import os
import re
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def pitlane_binary() -> Path:
    override = os.environ.get("PITLANE_BIN")
    if override:
        return Path(override)
    bin_path = subprocess.run(["swift", "build", "--show-bin-path"], cwd=ROOT, check=True, capture_output=True, text=True).stdout.strip()
    return Path(bin_path) / "pitlane"


class Pitlane:
    def __init__(self, config: str, now: str | None = None):
        """`now` starts Pitlane's clock at a fixed instant (`--now`), so a test that reads the calendar gives
        the same answer on any day; leave it unset where an origin's tokens use the real time."""
        self.dir = Path(tempfile.mkdtemp(prefix="pitlane-e2e-"))
        (self.dir / "config.yaml").write_text(config)
        self.log_path = self.dir / "pitlane.log"
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen(
            [str(pitlane_binary()), "serve", "--config", str(self.dir / "config.yaml"), "--port", "0", "--data-dir", str(self.dir / "data")]
            + (["--now", now] if now else []),
            stdout=self.log, stderr=subprocess.STDOUT, cwd=ROOT,
        )
        self.url = self._wait_for_url()

    def _wait_for_url(self) -> str:
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("pitlane exited:\n" + self.log_path.read_text())
            match = re.search(r"url=(http://\S+/)", self.log_path.read_text())
            if match:
                return match.group(1)
            time.sleep(0.1)
        raise RuntimeError("pitlane did not start:\n" + self.log_path.read_text())

    def get_json(self, path: str):
        with urllib.request.urlopen(self.url + path.lstrip("/"), timeout=10) as response:
            return json.load(response)

    def wait_for_stream(self, stream_id: str):
        deadline = time.time() + 30
        while time.time() < deadline:
            ids = [s["id"] for s in self.get_json("/api/streams")["streams"]]
            if stream_id in ids:
                return
            time.sleep(0.2)
        raise RuntimeError(f"{stream_id} never appeared")

    def logs(self) -> str:
        if not self.log.closed:
            self.log.flush()
        return self.log_path.read_text()

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


@pytest.fixture
def pitlane_demo_ttl10():
    # The Wednesday before the 2026 Qatar Grand Prix: the calendar has a next session whatever today is.
    server = Pitlane(
        "log_level: debug\ndemo:\n  token_ttl: 10\nschedule:\n  refresh: false   # no test reaches the internet\n",
        now="2026-11-25T12:00:00Z",
    )
    try:
        yield server
    finally:
        server.stop()
        out = os.environ.get("PITLANE_TEST_OUTPUT")
        if out:
            Path(out).mkdir(parents=True, exist_ok=True)
            (Path(out) / "pitlane-e2e.log").write_text(server.logs())


@pytest.fixture
def failing_world():
    """Pitlane with two sources of the same title on a live origin whose primary can be made to fail."""
    from live_origin import start

    origin = start()
    base = f"http://127.0.0.1:{origin.server_address[1]}"
    server = Pitlane(f"""log_level: info
demo: {{enabled: false}}
schedule: {{refresh: false}}
sources:
  - {{id: primary, kind: static, allow_private: true, streams: [{{url: "{base}/primary/live.m3u8", title: Race, key: race}}]}}
  - {{id: backup, kind: static, allow_private: true, streams: [{{url: "{base}/backup/live.m3u8", title: Race, key: race}}]}}
""")

    def control(action):
        urllib.request.urlopen(urllib.request.Request(f"{base}/control/{action}", method="POST"), timeout=5).read()

    server.control = control
    try:
        yield server
    finally:
        server.stop()
        origin.shutdown()
