"""First contentful paint of the built site on a slow connection (part of ``make bench``).

    .venv/bin/python benchmarks/first_paint.py               # every page, 3 loads each
    .venv/bin/python benchmarks/first_paint.py --runs 5 --pages chapters/01_gradient_descent.html

Each page of ``_build/html`` (build it first: ``make html``) is opened in headless Chromium
with an empty cache over a connection throttled by Chromium itself (DevTools Protocol,
``Network.emulateNetworkConditions``): 10 Mbit/s down and up, 40 ms latency. Reported per
page, as the median of the runs: first contentful paint (the browser's own
``first-contentful-paint`` entry), the ``load`` event, and the bytes transferred until the
network is idle. The server is Python's ``http.server``, which does not compress, so the
numbers are a pessimistic bound for a host that gzips HTML, CSS and JavaScript.

The target (issue 20): first contentful paint at most 2.5 s on every chapter. This is a
measurement, not a test: timings depend on the machine, and nothing here fails a build.
Results go to ``benchmarks/first_paint.json`` (or ``--out``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import json
import platform
import statistics
import sys
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))

from tests.test_site import CHROMIUM, CHROMIUM_ARGS, HTML, PAGES  # noqa: E402

DOWN_MBIT = 10
LATENCY_MS = 40
TARGET_FCP_S = 2.5

JS_FCP = """() => new Promise(resolve => {
  const found = () => performance.getEntriesByName('first-contentful-paint')[0];
  if (found()) return resolve(found().startTime);
  new PerformanceObserver(list => {
    const e = list.getEntriesByName('first-contentful-paint')[0];
    if (e) resolve(e.startTime);
  }).observe({type: 'paint', buffered: true});
})"""
JS_LOAD = "() => performance.getEntriesByType('navigation')[0].loadEventEnd"


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - signature from the base class
        pass


def measure(browser, url: str) -> dict:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
        rate = DOWN_MBIT * 1_000_000 / 8  # bytes per second
        cdp.send(
            "Network.emulateNetworkConditions",
            {"offline": False, "latency": LATENCY_MS, "downloadThroughput": rate, "uploadThroughput": rate},
        )
        sizes: dict[str, int] = {}
        cdp.on("Network.loadingFinished", lambda e: sizes.__setitem__(e["requestId"], e["encodedDataLength"]))
        page.goto(url, wait_until="load", timeout=120_000)
        fcp = page.evaluate(JS_FCP)
        load = page.evaluate(JS_LOAD)
        page.wait_for_load_state("networkidle", timeout=120_000)
        return {"fcp_s": fcp / 1000, "load_s": load / 1000, "bytes": sum(sizes.values())}
    finally:
        context.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="loads per page (default 3; the median is reported)")
    parser.add_argument("--pages", nargs="*", default=None, help="pages to measure (default: every page)")
    parser.add_argument("--out", type=Path, default=HERE / "first_paint.json")
    args = parser.parse_args(argv)
    if not (HTML / "index.html").exists():
        raise SystemExit("first_paint.py: build the site first (make html)")
    from playwright.sync_api import sync_playwright

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(HTML)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    pages = args.pages or PAGES
    results = {}
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
            for path in pages:
                runs = [measure(browser, base + path) for _ in range(args.runs)]
                results[path] = {
                    key: round(statistics.median(r[key] for r in runs), 3) for key in ("fcp_s", "load_s")
                } | {"bytes": int(statistics.median(r["bytes"] for r in runs)), "runs": args.runs}
                r = results[path]
                flag = "" if r["fcp_s"] <= TARGET_FCP_S else f"  (above the {TARGET_FCP_S} s target)"
                print(f"{path:42s} FCP {r['fcp_s']:5.2f} s  load {r['load_s']:5.2f} s  "
                      f"{r['bytes'] / 1e6:5.2f} MB{flag}", flush=True)
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
    record = {
        "measured": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "platform": platform.platform()},
        "network": {"down_mbit_s": DOWN_MBIT, "up_mbit_s": DOWN_MBIT, "latency_ms": LATENCY_MS,
                    "compression": "none (python http.server)"},
        "target_fcp_s": TARGET_FCP_S,
        "pages": results,
    }
    args.out.write_text(json.dumps(record, indent=2) + "\n")
    worst = max(results.values(), key=lambda r: r["fcp_s"])
    print(f"slowest first contentful paint: {worst['fcp_s']:.2f} s (target {TARGET_FCP_S} s); wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
