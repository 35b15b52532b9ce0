"""Starting and stopping a real `pitlane serve` (issue 14): a port another program holds is one clear message
and exit code 1; SIGTERM stops accepting, lets a segment download in flight finish, saves the catalogue and
exits 0."""
import signal
import socket
import sqlite3
import subprocess
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import fault_origin
from conftest import Pitlane, pitlane_binary
from test_fault_matrix import first_segment


def test_a_taken_port_is_one_clear_message_and_exit_code_1():
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen(1)
    port = holder.getsockname()[1]
    data = tempfile.mkdtemp(prefix="pitlane-e2e-")
    try:
        started = time.monotonic()
        result = subprocess.run(
            [str(pitlane_binary()), "serve", "--port", str(port), "--data-dir", data],
            capture_output=True, text=True, timeout=30, env={"PATH": "/usr/bin:/bin", "HOME": data},
        )
        seconds = time.monotonic() - started
    finally:
        holder.close()
    assert result.returncode == 1, result.stderr
    assert f"cannot listen on 127.0.0.1:{port}: the port is already in use" in result.stderr
    assert "Pitlane is listening" not in result.stderr
    assert seconds < 10, f"exited after {seconds:.1f} s"


def test_sigterm_lets_a_segment_in_flight_finish_then_saves_and_exits_0():
    origin = fault_origin.start()
    base = f"http://127.0.0.1:{origin.server_address[1]}"
    server = Pitlane(f"""log_level: info
demo: {{enabled: false}}
schedule: {{refresh: false}}
extraction: {{validate: false}}
server: {{shutdown_grace: 5}}
sources:
  - id: f
    kind: static
    allow_private: true
    streams:
      - {{url: "{base}/s/slow/index.m3u8", title: "slow", key: sslow}}
""")
    try:
        server.wait_for_stream("f-sslow")
        url = first_segment(server, "sslow")
        received = {}

        def download():
            with urllib.request.urlopen(url, timeout=30) as response:
                received["body"] = response.read()

        reader = threading.Thread(target=download)
        reader.start()
        time.sleep(0.6)  # the origin takes about 2 s to send it
        stopped, stopped_at = time.monotonic(), time.time()
        server.process.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        try:
            socket.create_connection(("127.0.0.1", int(server.url.rsplit(":", 1)[1].strip("/"))), timeout=2).close()
            refused = False
        except OSError:
            refused = True
        reader.join(timeout=10)
        code = server.process.wait(timeout=15)
        seconds = time.monotonic() - stopped
        logs = server.logs()
    finally:
        if server.process.poll() is None:
            server.process.kill()
        origin.shutdown()
    assert received.get("body") == fault_origin.SLOW_SEGMENT, "the download in flight was cut"
    assert refused, "a new connection was accepted after SIGTERM"
    assert code == 0, logs
    assert seconds < 5 + 5, f"exited {seconds:.1f} s after SIGTERM"
    assert "catalogue saved" in logs
    # Written after SIGTERM (the last cycle's save was long before), and it holds the stream.
    files = list((Path(server.dir) / "data").glob("catalogue.sqlite*"))
    assert max(file.stat().st_mtime for file in files) >= stopped_at, "the catalogue was not saved at shutdown"
    with sqlite3.connect(Path(server.dir) / "data" / "catalogue.sqlite") as connection:
        dump = "\n".join(connection.iterdump())
    assert "f-sslow" in dump, "the saved catalogue does not hold the stream"


def test_sigterm_during_an_endless_download_exits_0_after_the_grace():
    origin = fault_origin.start()
    base = f"http://127.0.0.1:{origin.server_address[1]}"
    server = Pitlane(f"""demo: {{enabled: false}}
schedule: {{refresh: false}}
extraction: {{validate: false}}
server: {{shutdown_grace: 2}}
sources:
  - {{id: f, kind: static, allow_private: true, streams: [{{url: "{base}/s/endless/index.m3u8", title: "endless", key: sendless}}]}}
""")
    try:
        server.wait_for_stream("f-sendless")
        response = urllib.request.urlopen(first_segment(server, "sendless"), timeout=30)
        response.read(1000)
        stopped = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        code = server.process.wait(timeout=20)
        seconds = time.monotonic() - stopped
        response.close()
    finally:
        if server.process.poll() is None:
            server.process.kill()
        origin.shutdown()
    assert code == 0, server.logs()
    assert 1.5 <= seconds <= 2 + 3, f"exited {seconds:.1f} s after SIGTERM"
    assert "catalogue saved" in server.logs()
