#!/usr/bin/env python3
"""Fetches hls.js for the web app from a registry this machine reaches (PyPI), pinned and checked.

The gradio wheel carries a released hls.js build as a plain ES module with no imports, exporting the Hls
class as `H`. We pin gradio 5.49.1 (hls.js 1.5.13, the newest 1.5 release it ships; Apache-2.0), check the
wheel's and the file's sha256, and write it with its licence to Sources/PitlaneServer/Resources/web/vendor/.
The file is not committed: run this once (`make run` does) before building. Why not octoprint's copy:
hls.js 0.14 predates fMP4 fixes, LL-HLS and the buffered-fragment events the web app relies on.

    scripts/fetch-hlsjs.py [--force]
"""
import hashlib
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

WHEEL = "gradio==5.49.1"
WHEEL_SHA256 = "1b19369387801a26a6ba7fd2f74d46c5b0e2ac9ddef14f24ddc0d11fb19421b7"
ASSET = "gradio/templates/frontend/assets/hls-C7-VjdhD.js"
ASSET_SHA256 = "b509ec5eb3c3c83b307772b05744b1574017a030a9f761f3b431a36c5fa43984"
LICENSE = "gradio-5.49.1.dist-info/licenses/LICENSE"
VERSION = "1.5.13"

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "Sources/PitlaneServer/Resources/web/vendor"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def main() -> int:
    target = OUT / "hls.mjs"
    if target.exists() and "--force" not in sys.argv and sha256(target.read_bytes()) == ASSET_SHA256:
        print(f"hls.js {VERSION} is already in {target.relative_to(ROOT)}")
        return 0
    with tempfile.TemporaryDirectory() as folder:
        print(f"downloading {WHEEL} from PyPI (about 60 MB) for its hls.js {VERSION} …")
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check", "-q", "-d", folder, WHEEL],
            check=True,
        )
        wheel = next(Path(folder).glob("gradio-*.whl"))
        if sha256(wheel.read_bytes()) != WHEEL_SHA256:
            print(f"error: {wheel.name} does not have the pinned sha256", file=sys.stderr)
            return 1
        with zipfile.ZipFile(wheel) as archive:
            code = archive.read(ASSET)
            licence = archive.read(LICENSE)
    if sha256(code) != ASSET_SHA256 or f'"{VERSION}"'.encode() not in code:
        print("error: the hls.js file in the wheel is not the pinned one", file=sys.stderr)
        return 1
    OUT.mkdir(parents=True, exist_ok=True)
    body = code.replace(b"//# sourceMappingURL=hls-C7-VjdhD.js.map", b"")
    target.write_bytes(f"/* hls.js {VERSION} (Apache-2.0), extracted unchanged from the {WHEEL} wheel by scripts/fetch-hlsjs.py */\n".encode() + body)
    (OUT / "LICENSE-hls.js.txt").write_bytes(
        f"hls.js {VERSION}: Apache License 2.0, copyright the hls.js authors (video-dev). Taken from the {WHEEL} wheel,\n"
        "whose licence (also Apache 2.0) follows.\n\n".encode() + licence
    )
    print(f"wrote {target.relative_to(ROOT)} (hls.js {VERSION})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
