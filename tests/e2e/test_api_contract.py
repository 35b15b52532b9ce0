"""The API's contract with the programs nobody here wrote (issue 14): the OpenAPI document passes
openapi-spec-validator, schemathesis fuzzes every operation against it (no 5xx, every answer matches its
schema, a wrong method is 405, bad input is 4xx) with accounts off and on, and Prometheus's own promtool
accepts a scrape of /metrics taken while a stream plays."""
import json
import re
import shutil
import subprocess
import sys
import urllib.request

import pytest
from openapi_spec_validator import validate

from conftest import Pitlane
from test_sharing import PASSWORD, cli

CONFIG = "schedule: {refresh: false}\ndemo: {token_ttl: 10}\n"


def fetch(url, headers=None):
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=10) as response:
        return response.read()


def schemathesis(server, *extra):
    """schemathesis's CLI on the running server, fixed seed, every check; returns its output (asserts success)."""
    result = subprocess.run(
        [sys.executable, "-m", "schemathesis.cli", "run", server.url + "api/openapi.json", "--url", server.url.rstrip("/"),
         "--checks", "all", "--max-examples", "40", "--seed", "14", "--no-color",
         "--workers", "1",  # CPython 3.11.7 fails ast.parse in two threads at once ("AST constructor recursion depth mismatch")
         "--exclude-path-regex", "^/t/",  # playback-token paths: covered in test_sharing with a real player
         *extra],
        capture_output=True, text=True, timeout=600,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    return output


@pytest.fixture(scope="module")
def open_server():
    server = Pitlane(CONFIG, now="2026-11-25T12:00:00Z")
    server.wait_for_stream("demo-world")
    yield server
    server.stop()


def test_the_document_is_valid_openapi_3_1(open_server):
    document = json.loads(fetch(open_server.url + "api/openapi.json"))
    validate(document)
    assert document["openapi"] == "3.1.0"


def test_schemathesis_finds_nothing_with_accounts_off(open_server):
    output = schemathesis(open_server)
    assert "No issues found" in output or "passed" in output, output[-3000:]


def test_schemathesis_finds_nothing_with_accounts_on():
    server = Pitlane("auth: {mode: password}\n" + CONFIG, now="2026-11-25T12:00:00Z")
    try:
        data = str(server.dir / "data")
        assert cli("users", "add", "alice", "--data-dir", data, "--password-stdin", stdin=PASSWORD + "\n").returncode == 0
        token = cli("tokens", "create", "--user", "alice", "contract", "--data-dir", data).stdout.strip()
        # Without credentials everything but the open endpoints is 401 in the documented shape…
        schemathesis(server)
        # …and with an API token every operation is reached.
        schemathesis(server, "--header", f"Authorization: Bearer {token}")
    finally:
        server.stop()


def test_promtool_accepts_a_scrape_taken_while_a_stream_plays(open_server):
    master = fetch(open_server.url + "hls/demo-world/master.m3u8").decode()
    variant = next(line for line in master.splitlines() if line.startswith("v/"))
    media = fetch(open_server.url + "hls/demo-world/" + variant).decode()
    segment = next(line for line in media.splitlines() if line.startswith("../s/"))
    fetch(open_server.url + "hls/demo-world/s/" + segment[5:])
    scrape = fetch(open_server.url + "metrics")
    viewers = re.search(rb'pitlane_stream_viewers\{stream="demo-world"\} ([0-9.]+)', scrape)
    assert viewers and float(viewers.group(1)) >= 1, scrape[:2000]
    promtool = shutil.which("promtool")
    assert promtool, "promtool (Debian's prometheus package) is not installed"
    checked = subprocess.run([promtool, "check", "metrics"], input=scrape, capture_output=True, timeout=60)
    assert checked.returncode == 0, checked.stdout.decode() + checked.stderr.decode()
