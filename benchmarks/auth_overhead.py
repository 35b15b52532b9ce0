#!/usr/bin/env python3
"""What accounts cost on the hot path: the same Pitlane release build twice in one run, once with
`auth.mode: none` and once with `auth.mode: password` played through a playback-token URL
(`/t/{token}/hls/…`, the path every player of a shared Pitlane uses), against one nginx origin on loopback.
Measured alternately, A B B A …, with wrk: cached segment relay (-c10) and variant playlists (-c50); each
server's CPU (utime + stime from /proc) per thousand requests, and the ratios password / none.

    python3 benchmarks/auth_overhead.py [--seconds 8] [--rounds 4]
"""
import argparse
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pitlane_process import ROOT, Server, cpu_seconds  # noqa: E402
from run import Origin, get, make_media, wrk  # noqa: E402

BINARY = str(ROOT / ".build/release/pitlane")


def config(origin_port, auth):
    streams = f"      - {{url: 'http://127.0.0.1:{origin_port}/live/master0.m3u8', title: Stream 0, key: s0}}"
    return f"""log_level: info
auth: {{mode: {auth}}}
demo: {{enabled: false}}
schedule: {{refresh: false}}
extraction: {{validate: false}}
sources:
  - id: bench
    kind: static
    allow_private: true
    streams:
{streams}
"""


def urls(base):
    """The variant playlist and first segment URLs of stream bench-s0 under `base` (…/ or …/t/TOKEN/)."""
    for _ in range(300):
        try:
            master = get(base + "hls/bench-s0/master.m3u8").decode()
            break
        except Exception:
            import time
            time.sleep(0.1)
    variant = next(l for l in master.splitlines() if l.startswith("v/"))
    media = get(base + "hls/bench-s0/" + variant).decode()
    segment = next(l for l in media.splitlines() if l.startswith("../s/"))[3:]
    return base + "hls/bench-s0/" + variant, base + "hls/bench-s0/" + segment


def measure(server, url, connections, seconds):
    before = cpu_seconds(server.pid)
    result = wrk(url, connections, seconds)
    spent = cpu_seconds(server.pid) - before
    requests = result["rps"] * seconds
    return result["rps"], 1000 * spent / max(requests, 1) * 1000, result["errors"]  # ms of CPU per 1k requests


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    if not Path(BINARY).exists():
        sys.exit("build the release binary first: swift build -c release --product pitlane")
    folder = Path(tempfile.mkdtemp(prefix="pitlane-auth-bench-"))
    folder.chmod(0o755)
    make_media(folder)
    origin = Origin(folder)
    plain = Server(BINARY, config(origin.port, "none"))
    shared = Server(BINARY, config(origin.port, "password"))
    try:
        data = str(shared.folder / "data")
        subprocess.run([BINARY, "users", "add", "bench", "--data-dir", data, "--password-stdin"], input="bench password\n", text=True,
                       check=True, capture_output=True)
        token = subprocess.run([BINARY, "users", "token", "bench", "--data-dir", data], text=True, check=True,
                               capture_output=True).stdout.strip()
        targets = {"none": (plain, urls(plain.url)), "password": (shared, urls(shared.url + f"t/{token}/"))}
        assert urllib.request.urlopen(targets["password"][1][1]).status == 200
        figures = {name: {"segment": [], "playlist": []} for name in targets}
        for round in range(args.rounds):
            # A B, then B A: neither goes first every time (the first after a pause ran faster here).
            order = list(targets.items()) if round % 2 == 0 else list(reversed(targets.items()))
            for name, (server, (playlist, segment)) in order:
                figures[name]["segment"].append(measure(server, segment, 10, args.seconds))
                figures[name]["playlist"].append(measure(server, playlist, 50, args.seconds))
    finally:
        plain.stop()
        shared.stop()
        origin.stop()

    def mean(rows, column):
        return sum(row[column] for row in rows) / len(rows)

    print(f"{args.rounds} rounds × {args.seconds} s, alternating A B, B A; CPU = the server's utime + stime from /proc")
    print("| measure | auth none | auth password (playback token) | password / none |")
    print("|---|---|---|---|")
    for kind in ["segment", "playlist"]:
        none, password = figures["none"][kind], figures["password"][kind]
        rps_n, rps_p = mean(none, 0), mean(password, 0)
        cpu_n, cpu_p = mean(none, 1), mean(password, 1)
        errors = sum(row[2] for row in none + password)
        print(f"| {kind}: requests/s | {rps_n:,.0f} | {rps_p:,.0f} | {rps_p / rps_n:.2f} |")
        print(f"| {kind}: CPU ms per 1k requests | {cpu_n:.1f} | {cpu_p:.1f} | {cpu_p / cpu_n:.2f} |")
        if errors:
            print(f"| {kind}: non-2xx answers | {errors} | | |")


if __name__ == "__main__":
    main()
