"""What the benchmarks share: the pitlane binary, a `pitlane serve` with a config of its own on a free port,
and figures read from /proc (resident memory, CPU seconds)."""
import re
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def binary(override=None) -> str:
    """`override`, else the debug build's (`swift build --show-bin-path`)."""
    if override:
        return override
    path = subprocess.run(["swift", "build", "--show-bin-path"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    return path + "/pitlane"


class Server:
    """`pitlane serve` with `config`, its log and data in a fresh folder; `url` once it listens."""

    def __init__(self, executable: str, config: str, prefix: str = "pitlane-bench-"):
        self.folder = Path(tempfile.mkdtemp(prefix=prefix))
        (self.folder / "config.yaml").write_text(config)
        self.log_path = self.folder / "pitlane.log"
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen(
            [executable, "serve", "--config", str(self.folder / "config.yaml"), "--port", "0", "--data-dir", str(self.folder / "data")],
            stdout=self.log, stderr=subprocess.STDOUT)
        self.pid = self.process.pid
        self.url = None
        for _ in range(600):
            match = re.search(r"url=(http://\S+/)", self.log_path.read_text())
            if match:
                self.url = match.group(1)
                break
            if self.process.poll() is not None:
                raise RuntimeError("pitlane exited:\n" + self.log_path.read_text())
            time.sleep(0.1)
        if self.url is None:
            raise RuntimeError("pitlane did not start:\n" + self.log_path.read_text())

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=15)
        self.log.close()


def rss_mb(pid) -> float:
    text = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+)", text).group(1)) / 1024


def cpu_seconds(pid) -> float:
    """User plus system CPU time of a process, from /proc/PID/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100
