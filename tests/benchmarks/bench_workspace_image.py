"""Benchmark: the bounding-box widget on a large image stays responsive.

Mounts static/js/controls/boxes.js (the real module, no server needed) on a generated
8000x6000 PNG carrying 300 boxes, in Debian's Chromium, and measures in the page:
time until the stage is ready and the image decoded, the time a zoom step takes to reach the
screen, and frame intervals while a box is dragged across the image. Prints figures and the
peak RSS of this process and of Chromium.

Run: .venv/bin/python tests/benchmarks/bench_workspace_image.py [--width 8000 --height 6000]
"""

import argparse
import functools
import http.server
import os
import resource
import shutil
import tempfile
import threading
import time
from pathlib import Path

import psutil
from PIL import Image, ImageDraw
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")

HARNESS = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><link rel="stylesheet" href="static/css/app.css">
</head><body><main><form id="form"></form></main>
<script type="module">
import { createBoxes } from "./static/js/controls/boxes.js";
import { HotkeyRegistry } from "./static/js/hotkeys.js";
const control = {name: "objects", kind: "boxes", source: "image", labels: ["car", "person"]};
const registry = new HotkeyRegistry([control]);
const started = performance.now();
const widget = createBoxes(control, {
  container: document.getElementById("form"), data: {image: "big.png"},
  item: {width: WIDTH, height: HEIGHT}, labels: registry.labelsFor(control), registry,
  onChange() {}, signal: new AbortController().signal,
});
const boxes = [];
for (let i = 0; i < BOXES; i++) {
  boxes.push({x: (i * 97) % (WIDTH - 200), y: (i * 61) % (HEIGHT - 150), width: 180,
              height: 120, label: i % 2 ? "car" : "person"});
}
window.bench = { widget, started, boxes };
const image = document.querySelector(".stage img");
image.decode().then(() => {
  widget.setValue(boxes);
  window.bench.readyMs = performance.now() - started;
});
</script></body></html>
"""

FRAME_PROBE = """() => { window.probe = new Promise((resolve) => {
  const stage = document.querySelector('.stage');
  const times = [];
  let last = performance.now();
  let running = true;
  const tick = (now) => {
    times.push(now - last);
    last = now;
    if (running) requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
  window.stopProbe = () => { running = false; resolve(times); };
}); }"""


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def draw_image(path: Path, width: int, height: int) -> None:
    image = Image.new("RGB", (width, height), "#dfe7ef")
    draw = ImageDraw.Draw(image)
    for x in range(0, width, 50):
        draw.line([(x, 0), (x, height)], fill=(x % 255, 120, 160), width=2)
    for y in range(0, height, 50):
        draw.line([(0, y), (width, y)], fill=(90, y % 255, 60), width=2)
    image.save(path, compress_level=1)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--width", type=int, default=8000)
    parser.add_argument("--height", type=int, default=6000)
    parser.add_argument("--boxes", type=int, default=300)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-workspace-"))
    try:
        (work / "static").symlink_to(ROOT / "static")
        started = time.perf_counter()
        draw_image(work / "big.png", args.width, args.height)
        print(
            f"image {args.width}x{args.height}: drawn in {time.perf_counter() - started:.1f} s, "
            f"{(work / 'big.png').stat().st_size / 1e6:.1f} MB"
        )
        html = (
            HARNESS.replace("WIDTH", str(args.width))
            .replace("HEIGHT", str(args.height))
            .replace("BOXES", str(args.boxes))
        )
        (work / "index.html").write_text(html)
        handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(work))
        handler.log_message = lambda *a, **k: None
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_address[1]}/index.html"

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
            )
            page = browser.new_page(viewport={"width": 1280, "height": 720})
            page.goto(url)
            page.wait_for_function(
                "window.bench && window.bench.readyMs !== undefined", timeout=120_000
            )
            ready_ms = page.evaluate("window.bench.readyMs")
            print(f"stage ready with the image decoded and {args.boxes} boxes: {ready_ms:.0f} ms")

            # Zoom: from the key press to the next painted frame, ten steps in and out.
            page.locator(".stage").focus()
            zoom_ms = []
            for key in ["+"] * 5 + ["-"] * 5:
                zoom_ms.append(
                    page.evaluate(
                        """(key) => new Promise((resolve) => {
                      const t0 = performance.now();
                      document.querySelector('.stage').dispatchEvent(new WheelEvent('wheel',
                        {deltaY: key === '+' ? -100 : 100, clientX: 400, clientY: 300,
                         bubbles: true, cancelable: true}));
                      requestAnimationFrame(() => requestAnimationFrame(
                        () => resolve(performance.now() - t0)));
                    })""",
                        key,
                    )
                )
            print(
                f"zoom step to screen: median {percentile(zoom_ms, 0.5):.1f} ms, "
                f"max {max(zoom_ms):.1f} ms"
            )

            # Drag one box across the image while measuring frame intervals.
            page.keyboard.press("0")
            box = page.locator(".stage .shape").first.bounding_box()
            page.evaluate(FRAME_PROBE)
            x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
            page.mouse.move(x, y)
            page.mouse.down()
            page.mouse.move(x + 300, y + 200, steps=120)
            page.mouse.up()
            frames = page.evaluate("window.stopProbe(), window.probe")
            print(
                f"dragging a box ({len(frames)} frames): median frame "
                f"{percentile(frames, 0.5):.1f} ms, p95 {percentile(frames, 0.95):.1f} ms, "
                f"max {max(frames):.1f} ms"
            )
            chromium_rss = sum(
                child.memory_info().rss
                for child in psutil.Process().children(recursive=True)
                if "chrom" in child.name().lower()
            )
            print(f"Chromium RSS at the end: {chromium_rss / 1e6:.0f} MB")
            browser.close()
        server.shutdown()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of this process: {peak:.0f} MB")


if __name__ == "__main__":
    main()
