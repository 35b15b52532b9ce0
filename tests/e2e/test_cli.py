"""`pitlane sources check` and `pitlane streams` against a fixture site, as a user runs them."""
import json
import subprocess

import pytest

from conftest import pitlane_binary
from fixture_site import start


@pytest.fixture
def site():
    server = start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def config(tmp_path, site, broken=False):
    text = f"""
sources:
  - {{id: site, kind: page, url: "{site}/page.html", allow_private: true}}
  - id: api
    kind: json
    url: {site}/api.json
    items: "items[*]"
    fields: {{url: u, title: n, key: id}}
    allow_private: true
  - {{id: list, kind: m3u, url: "{site}/list.m3u", allow_private: true}}
"""
    if broken:
        text += f"""  - id: broken
    kind: json
    url: {site}/broken.json
    items: "[*]"
    fields: {{url: url}}
    allow_private: true
  - {{id: private, kind: page, url: "{site}/page.html"}}
"""
    path = tmp_path / "pitlane.yaml"
    path.write_text(text)
    return str(path)


def run(*args):
    return subprocess.run([str(pitlane_binary()), *args], capture_output=True, text=True, timeout=120)


def test_sources_check_prints_a_table_and_succeeds(tmp_path, site):
    result = run("sources", "check", "--config", config(tmp_path, site))
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["SOURCE", "KIND", "FOUND", "PLAYABLE", "TIME", "ERROR"]
    rows = {line.split()[0]: line.split() for line in lines[1:]}
    assert rows["site"][1:4] == ["page", "1", "1"]
    assert rows["api"][1:4] == ["json", "1", "1"]
    assert rows["list"][1:4] == ["m3u", "1", "1"]


def test_sources_check_fails_when_a_source_fails(tmp_path, site):
    result = run("sources", "check", "--config", config(tmp_path, site, broken=True))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "did not answer JSON" in result.stdout
    assert "2 source(s) failed: broken, private" in result.stderr
    private = next(line for line in result.stdout.splitlines() if line.startswith("private"))
    assert "refused to connect to 127.0.0.1" in private


def test_streams_json_is_ranked_and_validated(tmp_path, site):
    result = run("streams", "--json", "--config", config(tmp_path, site))
    assert result.returncode == 0, result.stderr
    streams = json.loads(result.stdout)["streams"]
    assert [s["rank"] for s in streams] == list(range(1, len(streams) + 1))
    titles = {s["title"] for s in streams}
    assert {"Fixture TV", "API stream", "List channel"} <= titles
    assert all(s["health"]["playable"] for s in streams)
    assert all(s["health"]["live"] for s in streams)


def test_a_bad_config_is_one_clear_line_and_exit_2(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("sources:\n  - {id: x, kind: page}\n")
    result = run("streams", "--config", str(path))
    assert result.returncode == 2
    assert result.stderr.strip() == f"pitlane: configuration error: {path}: sources[0].url: is required"
