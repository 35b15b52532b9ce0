"""The service file and the container (issue 14). systemd-analyze verifies contrib/pitlane.service (every key
known, ExecStart runnable) and rates its hardening; the Dockerfile's build and runtime are proven by
scripts/check-image, which scripts/test runs after this suite (it needs a release build)."""
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from conftest import ROOT, pitlane_binary


def unit_for_this_machine() -> Path:
    """contrib/pitlane.service with ExecStart pointing at the binary just built (verify checks it exists)."""
    folder = Path(tempfile.mkdtemp(prefix="pitlane-unit-"))
    text = (ROOT / "contrib/pitlane.service").read_text().replace("/usr/local/bin/pitlane", str(pitlane_binary()))
    (folder / "pitlane.service").write_text(text)
    return folder / "pitlane.service"


def test_systemd_accepts_the_service_file_without_a_word():
    analyze = shutil.which("systemd-analyze")
    assert analyze, "systemd-analyze (Debian's systemd package) is not installed"
    checked = subprocess.run([analyze, "verify", str(unit_for_this_machine())], capture_output=True, text=True, timeout=60)
    # An unknown or misspelt key is only a warning to systemd: any output at all fails here.
    assert checked.returncode == 0 and checked.stdout.strip() == "" and checked.stderr.strip() == "", checked.stdout + checked.stderr


def test_the_service_is_hardened():
    rated = subprocess.run(["systemd-analyze", "security", "--offline=yes", str(unit_for_this_machine())],
                           capture_output=True, text=True, timeout=60)
    level = float(re.search(r"Overall exposure level for \S+: ([0-9.]+)", rated.stdout).group(1))
    assert level <= 3.0, rated.stdout[-3000:]
    text = (ROOT / "contrib/pitlane.service").read_text()
    for required in ["DynamicUser=yes", "StateDirectory=pitlane", "NoNewPrivileges=yes", "ProtectSystem=strict", "KillSignal=SIGTERM"]:
        assert required in text


def test_the_dockerfile_and_compose_file_say_what_readme_promises():
    docker = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM swift:\S+ AS build$", docker, re.M) and re.search(r"^FROM debian:\S+-slim$", docker, re.M)
    assert re.search(r"^USER pitlane$", docker, re.M), "the image must not run as root"
    assert re.search(r"^HEALTHCHECK .*\[\"/usr/local/bin/pitlane\", \"health\"\]$", docker, re.M)
    assert re.search(r"^VOLUME /data$", docker, re.M) and "PITLANE_SERVER_DATA_DIR=/data" in docker
    compose = (ROOT / "contrib/compose.yaml").read_text()
    assert "PITLANE_AUTH_MODE: password" in compose and "pitlane-data:/data" in compose
