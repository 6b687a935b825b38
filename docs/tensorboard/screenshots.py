"""Screenshots of TensorBoard's dashboards for a logdir, taken with headless Chromium.

How the pictures in this directory were made (issue #26: what a researcher sees), so they can
be made again after a change to what runs write. Not part of the package or its tests: it
needs Chromium and Playwright, which the package does not depend on:

    apt-get install chromium          # Debian's; Playwright's own browser download is not used
    pip install playwright
    python docs/tensorboard/screenshots.py --logdir=runs --out=docs/tensorboard

It starts `tensorboard --logdir` on a free local port, opens each dashboard with
`?forceSVG=true` (charts drawn as SVG: no GPU here), waits for the data to load and writes
`<dashboard>.png`; for HParams also the parallel-coordinates view after a click on it.
The pictures here: `python docs/tensorboard/screenshots.py --logdir=runs --out=docs/tensorboard
--dashboards=scalars,custom_scalars,images,text,timeseries` and `--dashboards=hparams
--width=2400 --height=800` over a quickstart and its random baseline (BUILD_NOTES.md, "TensorBoard
that compares runs"); `timeseries_actual_size.png` is the Time Series dashboard with its "Show
actual image size" setting ticked by hand.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
import urllib.request

_CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
_DASHBOARDS = ("scalars", "custom_scalars", "hparams", "images", "text", "timeseries")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


def _start_tensorboard(logdir: str, port: int) -> subprocess.Popen:
    command = [sys.executable, "-m", "tensorboard.main", f"--logdir={logdir}", f"--port={port}"]
    process = subprocess.Popen(
        command + ["--host=localhost"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"http://localhost:{port}/data/runs", timeout=2)
            return process
        except OSError:
            time.sleep(0.5)
    process.kill()
    raise SystemExit(f"tensorboard did not answer on port {port} within 120 s")


def _shoot(page, url: str, path: str, settle: float) -> None:
    page.goto(url, wait_until="networkidle")
    time.sleep(settle)  # charts draw after their data arrives
    page.screenshot(path=path, full_page=True)
    print(f"wrote {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--logdir", required=True)
    parser.add_argument("--out", required=True, help="directory for the PNG files")
    parser.add_argument("--dashboards", default=",".join(_DASHBOARDS))
    parser.add_argument("--width", type=int, default=1600)
    parser.add_argument("--height", type=int, default=1100)
    parser.add_argument("--settle", type=float, default=6.0, help="seconds to wait per page")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    os.makedirs(args.out, exist_ok=True)
    port = _free_port()
    tensorboard = _start_tensorboard(args.logdir, port)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=args.chromium, headless=True, args=_CHROMIUM_ARGS
            )
            page = browser.new_page(viewport={"width": args.width, "height": args.height})
            for name in args.dashboards.split(","):
                url = f"http://localhost:{port}/?forceSVG=true#{name}"
                _shoot(page, url, os.path.join(args.out, f"{name}.png"), args.settle)
                if name == "hparams":  # the same sessions as parallel coordinates
                    page.get_by_text("PARALLEL COORDINATES VIEW").click()
                    time.sleep(args.settle)
                    path = os.path.join(args.out, "hparams_parallel_coordinates.png")
                    page.screenshot(path=path, full_page=True)
                    print(f"wrote {path}")
            browser.close()
    finally:
        tensorboard.terminate()
        tensorboard.wait(timeout=30)


if __name__ == "__main__":
    main()
