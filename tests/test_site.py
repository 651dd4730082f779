"""The built site, checked page by page in a real browser (Debian's Chromium via Playwright).

The site is served from ``_build/html`` under a sub-path (``/course/``), the way a project
page is published, so an absolute ``/_static/...`` URL shows up as a 404. Every request to
a host other than the local server is blocked and reported: the site must work offline.

For every page in ``_toc.yml``: HTTP 200, no console errors, no request elsewhere, every
equation typeset by MathJax with no raw ``$``, ``\\(`` or ``\\[`` left in the visible text,
every image loaded, every widget view rendered, every internal link and anchor resolving.
The search page must find "chain rule". Full-page screenshots go to ``_build/screenshots/``.

``make test`` builds the site (strictly) before running this file; run on its own, the test
builds the site first if ``_build/html`` does not exist.
"""

from __future__ import annotations

import functools
import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from html.parser import HTMLParser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urldefrag, urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
HTML = ROOT / "_build" / "html"
SCREENSHOTS = ROOT / "_build" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
SUBPATH = "/course/"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def toc_pages() -> list[str]:
    """Every page of the table of contents, as a path relative to the site root."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                files.append(entry["file"])
            walk(entry.get("sections"))

    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    walk(toc.get("chapters"))
    return [f"{Path(f).with_suffix('')}.html" for f in files]


PAGES = toc_pages()
STATS: dict[str, dict] = {}


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def site() -> Path:
    if not (HTML / "index.html").exists():
        env = dict(os.environ, MPLCONFIGDIR=os.environ.get("MPLCONFIGDIR", "/tmp/mplconfig"))
        jb = Path(sys.executable).with_name("jupyter-book")
        subprocess.run([str(jb), "build", str(ROOT)], check=True, env=env)
    return HTML


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - signature from the base class
        pass


@pytest.fixture(scope="module")
def base_url(site: Path, tmp_path_factory) -> str:
    """Serve the site at http://127.0.0.1:<free port>/course/ and nothing else."""
    docroot = tmp_path_factory.mktemp("docroot")
    (docroot / SUBPATH.strip("/")).symlink_to(site, target_is_directory=True)
    handler = functools.partial(_QuietHandler, directory=str(docroot))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}{SUBPATH}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} not found (install it with `apt-get install -y chromium`)"
        if _in_ci():
            pytest.fail(message + "; CI is set, so the browser test must run")
        pytest.skip(message)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:  # pragma: no cover - playwright is pinned in requirements.txt
        pytest.fail(f"playwright is not installed in this environment: {exc}")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture(scope="module", autouse=True)
def _write_summary():
    start = time.perf_counter()
    yield
    if STATS:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        summary = {
            "pages": len(STATS),
            "requests": sum(s["requests"] for s in STATS.values()),
            "seconds": round(time.perf_counter() - start, 1),
            "per_page": STATS,
        }
        (SCREENSHOTS / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")


class Recorder:
    """Collects what a page did while it loaded; ``reset()`` before each new page."""

    def __init__(self, page, origin: str):
        self.origin = origin
        self.reset()
        page.on("request", lambda r: self.requests.append(r.url))
        page.on("response", self._response)
        page.on("requestfailed", lambda r: self.failed.append(f"{r.url}: {r.failure}"))
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.errors.append(f"uncaught: {exc}"))
        page.route(re.compile(r"^https?://"), self._route)

    def reset(self):
        self.requests: list[str] = []
        self.foreign: list[str] = []
        self.failed: list[str] = []
        self.errors: list[str] = []

    def _route(self, route):
        url = route.request.url
        if url.startswith(self.origin):
            route.continue_()
        else:
            self.foreign.append(url)
            route.abort()

    def _response(self, response):
        if response.status >= 400:
            self.failed.append(f"{response.url}: HTTP {response.status}")

    def _console(self, msg):
        if msg.type == "error":
            self.errors.append(f"console: {msg.text} ({msg.location.get('url', '')})")


@pytest.fixture(scope="module")
def _shared_page(browser, base_url):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    origin = "{0.scheme}://{0.netloc}/".format(urlsplit(base_url))
    pg.recorder = Recorder(pg, origin)
    yield pg
    context.close()


@pytest.fixture
def page(_shared_page):
    """One browser tab for the whole module (cheaper than a context per page); each test
    starts from a blank page with an empty record."""
    _shared_page.goto("about:blank")
    _shared_page.recorder.reset()
    return _shared_page


# --------------------------------------------------------------------------- helpers

JS_VISIBLE_TEXT = """() => {
  const clone = document.body.cloneNode(true);
  clone.querySelectorAll('script, style, pre, code, kbd, textarea, noscript, template, mjx-container')
       .forEach(e => e.remove());
  return clone.textContent;
}"""

JS_MATH_STATUS = """async () => {
  const math = Array.from(document.querySelectorAll('.math'));
  if (math.length === 0) return {count: 0, untypeset: [], errors: []};
  if (!window.MathJax || !window.MathJax.startup) return {count: math.length, missing: true};
  await window.MathJax.startup.promise;
  return {
    count: math.length,
    untypeset: math.filter(m => !m.querySelector('mjx-container')).map(m => m.textContent.slice(0, 80)),
    errors: Array.from(document.querySelectorAll('mjx-merror')).map(e => e.textContent.slice(0, 80)),
  };
}"""

JS_IMAGES = """async () => {
  const imgs = Array.from(document.images);
  imgs.forEach(i => { i.loading = 'eager'; });
  await Promise.all(imgs.map(i => i.complete ? null : new Promise(r => { i.onload = i.onerror = r; })));
  return {count: imgs.length,
          broken: imgs.filter(i => i.naturalWidth === 0).map(i => i.getAttribute('src'))};
}"""

JS_WIDGET_VIEWS = f"""() => {{
  const views = Array.from(document.querySelectorAll('script[type="{WIDGET_VIEW}"]'));
  return {{count: views.length,
           rendered: views.filter(s => s.parentElement.querySelector('.jupyter-widgets')).length}};
}}"""


class _Anchors(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        for key, value in attrs:
            if key == "id" or (tag == "a" and key == "name"):
                self.ids.add(value)


@functools.cache
def fetch(url: str) -> tuple[int, str, frozenset[str]]:
    """Status, content type and anchor ids of a local URL (cached across pages)."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            ctype = response.headers.get_content_type()
            body = response.read()
            status = response.status
    except urllib.error.HTTPError as exc:
        return exc.code, "", frozenset()
    ids: frozenset[str] = frozenset()
    if ctype == "text/html":
        parser = _Anchors()
        parser.feed(body.decode("utf-8", errors="replace"))
        ids = frozenset(parser.ids)
    return status, ctype, ids


def broken_internal_links(hrefs: list[str], base_url: str) -> list[str]:
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(base_url))
    broken = []
    for href in sorted(set(hrefs)):
        if not href.startswith(origin):
            continue  # links to other sites are links, not requests; they are not followed
        target, fragment = urldefrag(href)
        if not target.startswith(base_url):
            broken.append(f"{href}: outside the site's path {SUBPATH}")
            continue
        status, ctype, ids = fetch(target)
        if status != 200:
            broken.append(f"{href}: HTTP {status}")
        elif fragment and ctype == "text/html" and fragment not in ids:
            broken.append(f"{href}: no element with id '{fragment}'")
    return broken


def recorder_problems(rec: Recorder) -> list[str]:
    return (
        [f"request to another host: {u}" for u in rec.foreign]
        + [f"failed request: {f}" for f in rec.failed]
        + [f"error: {e}" for e in rec.errors]
    )


# --------------------------------------------------------------------------- tests


def test_toc_lists_every_chapter():
    assert PAGES[0] == "intro.html"
    chapters = [p for p in PAGES if re.match(r"chapters/0[1-5]_", p)]
    assert len(chapters) == 5, chapters
    assert chapters == sorted(chapters), "chapters must appear in curriculum order"


@pytest.mark.parametrize("path", PAGES)
def test_page(page, base_url, path):
    url = base_url + path
    rec = page.recorder
    response = page.goto(url, wait_until="load")
    assert response is not None and response.status == 200, f"{url}: {response and response.status}"

    math = page.evaluate(JS_MATH_STATUS)
    widgets = page.evaluate(JS_WIDGET_VIEWS)
    if widgets["count"]:
        try:
            page.wait_for_function(
                f"() => Array.from(document.querySelectorAll('script[type=\"{WIDGET_VIEW}\"]'))"
                ".every(s => s.parentElement.querySelector('.jupyter-widgets'))",
                timeout=15_000,
            )
        except Exception:  # noqa: BLE001 - reported by the assertion below
            pass
        widgets = page.evaluate(JS_WIDGET_VIEWS)
    images = page.evaluate(JS_IMAGES)
    page.evaluate("() => document.fonts.ready.then(() => null)")
    page.wait_for_load_state("networkidle")  # anything requested late (fonts) is recorded too
    text = " ".join(page.evaluate(JS_VISIBLE_TEXT).split())
    hrefs = page.eval_on_selector_all("a[href]", "els => els.map(a => a.href)")

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shot = SCREENSHOTS / (path.replace("/", "__").removesuffix(".html") + ".png")
    page.screenshot(path=str(shot), full_page=True, animations="disabled", caret="hide")
    STATS[path] = {
        "requests": len(rec.requests),
        "equations": math["count"],
        "images": images["count"],
        "widget_views": widgets["count"],
    }

    problems = recorder_problems(rec)
    if math.get("missing"):
        problems.append(f"{math['count']} equations but MathJax did not load")
    else:
        problems += [f"equation left untypeset: {m!r}" for m in math["untypeset"]]
        problems += [f"MathJax reported a TeX error: {m!r}" for m in math["errors"]]
    for token in ("$", "\\(", "\\["):
        at = text.find(token)
        if at >= 0:
            problems.append(f"raw {token!r} in visible text: ...{text[max(0, at - 60):at + 60]!r}...")
    problems += [f"image did not load: {src}" for src in images["broken"]]
    if widgets["rendered"] != widgets["count"]:
        missing = widgets["count"] - widgets["rendered"]
        problems.append(f"{missing} of {widgets['count']} widget views not rendered")
    problems += [f"broken internal link: {b}" for b in broken_internal_links(hrefs, base_url)]
    assert not problems, f"{path}:\n" + "\n".join(problems)


def test_some_page_has_a_rendered_widget():
    """The widget checks above must have had something to check."""
    if not STATS:
        pytest.skip("no page was checked")
    assert any(s["widget_views"] for s in STATS.values()), "no page of the site shows a widget"


def test_search_finds_chain_rule(page, base_url):
    rec = page.recorder
    response = page.goto(base_url + "search.html?q=chain+rule", wait_until="networkidle")
    assert response is not None and response.status == 200
    page.wait_for_selector("#search-results .search-summary", timeout=15_000)
    results = page.eval_on_selector_all(
        "#search-results ul.search li a", "els => els.map(a => a.getAttribute('href'))"
    )
    page.screenshot(path=str(SCREENSHOTS / "search.png"), full_page=True)
    assert any("02_chain_rule" in href for href in results), f"search results: {results}"
    problems = recorder_problems(rec)
    assert not problems, "\n".join(problems)
