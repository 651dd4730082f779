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
sys.path.insert(0, str(ROOT / "_ext"))
from chromium import CHROMIUM, CHROMIUM_ARGS  # noqa: E402 - shared with make pdf and the benchmarks

SUBPATH = "/course/"
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


def load_widgets(page) -> None:
    """Load the widget manager now (the site loads it when a widget nears the screen)."""
    page.evaluate("() => window.bookWidgets ? window.bookWidgets.load() : null")


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
        load_widgets(page)
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


def test_no_page_shows_a_widget_that_needs_a_kernel():
    """Live controls need a kernel: their cells are tagged remove-output, so the site shows
    no frozen slider; each chapter's kernel-free animation stands in for them
    (tests/test_site_reading.py checks that every animation answers its slider)."""
    if not STATS:
        pytest.skip("no page was checked")
    shown = {path: s["widget_views"] for path, s in STATS.items() if s["widget_views"]}
    assert not shown, f"pages that show ipywidgets views without a kernel: {shown}"


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


# =========================================================================== the reader's shell
# Phone layout, accessibility (axe-core, light and dark), dark mode in one click, keyboard
# reach and page weight. These tests share the helpers below and nothing with the ones above
# except the server and the browser. Their numbers go to _build/screenshots/shell.json.

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
PHONE = {"width": 390, "height": 844}
MAX_CHAPTER_BYTES = 3_000_000  # transferred to show a chapter page (see test_chapter_weight)
# A figure wider than this (CSS px at its natural size) is "wide": on a phone it must keep
# at least this width (it scrolls in its box) rather than shrink to the screen.
WIDE_FIGURE = 560
# Tab presses from the start of an animation's section to the animation's first control,
# not counting code boxes that scroll sideways: those must be tab stops (to be scrolled from
# the keyboard), and how many a section has depends on its code, not on the site.
MAX_TABS_TO_ANIMATION = 12
CHAPTERS = [p for p in PAGES if re.match(r"chapters/0[1-5]_", p)]
SHELL: dict[str, dict] = {}


@pytest.fixture(scope="module", autouse=True)
def _write_shell_summary():
    yield
    if SHELL:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        (SCREENSHOTS / "shell.json").write_text(json.dumps(SHELL, indent=2, sort_keys=True) + "\n")


def _shell(path: str) -> dict:
    return SHELL.setdefault(path, {})


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE.exists():
        pytest.fail(f"{AXE} missing: run `npm ci` (axe-core is pinned in package.json)")
    return AXE.read_text(encoding="utf-8")


def _origin(base_url: str) -> str:
    return "{0.scheme}://{0.netloc}/".format(urlsplit(base_url))


@pytest.fixture(scope="module")
def phone_page(browser, base_url):
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    pg = context.new_page()
    pg.recorder = Recorder(pg, _origin(base_url))
    yield pg
    context.close()


@pytest.fixture(scope="module", params=["light", "dark"])
def mode_page(request, browser, base_url):
    """A desktop tab whose stored colour mode is light or dark before any page loads."""
    mode = request.param
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_init_script(
        f"try {{ localStorage.setItem('mode', '{mode}'); localStorage.setItem('theme', '{mode}'); }}"
        " catch (e) {}"
    )
    pg = context.new_page()
    pg.recorder = Recorder(pg, _origin(base_url))
    pg.mode = mode
    yield pg
    context.close()


JS_SETTLED = """async () => {
  if (window.MathJax && window.MathJax.startup && window.MathJax.startup.promise) {
    await window.MathJax.startup.promise;
  }
  await document.fonts.ready;
  const views = Array.from(document.querySelectorAll('script[type="WIDGET_VIEW"]'));
  const t0 = Date.now();
  while (views.some(s => !s.parentElement.querySelector('.jupyter-widgets')) && Date.now() - t0 < 15000) {
    await new Promise(r => setTimeout(r, 100));
  }
  if (window.bookSite) window.bookSite.refresh();
  await new Promise(r => setTimeout(r, 600));   // site.js marks scrolling boxes after 400 ms
}""".replace("WIDGET_VIEW", WIDGET_VIEW)


def open_settled(page, url: str) -> None:
    """Open a page with everything drawn: equations, widgets, fonts, the site's own marks."""
    response = page.goto(url, wait_until="load")
    assert response is not None and response.status == 200, f"{url}: {response and response.status}"
    load_widgets(page)
    page.evaluate(JS_SETTLED)
    page.wait_for_load_state("networkidle")


JS_PHONE_LAYOUT = """(wide) => {
  const doc = document.documentElement;
  const width = doc.clientWidth;
  const cut = [];
  const boxes = Array.from(document.querySelectorAll('.bd-article div.math > mjx-container, .bd-article pre'));
  for (const box of boxes) {
    if (box.scrollWidth > box.clientWidth + 2) {
      const style = getComputedStyle(box);
      const scrolls = style.overflowX === 'auto' || style.overflowX === 'scroll';
      if (!scrolls || !box.classList.contains('is-scrollable') || box.tabIndex !== 0) {
        cut.push(box.tagName.toLowerCase() + ': ' + box.textContent.trim().slice(0, 60));
      }
    }
  }
  const buttons = Array.from(document.querySelectorAll('.animation .anim-buttons button, .animation input'));
  const offscreen = buttons.filter(b => {
    const r = b.getBoundingClientRect();
    return r.width > 0 && (r.right > width + 1 || r.left < -1);
  }).map(b => b.getAttribute('aria-label') || b.type);
  const shrunk = [];
  for (const img of document.querySelectorAll('.bd-article img')) {
    if (!img.naturalWidth || img.closest('.animation')) continue;
    const shown = img.getBoundingClientRect().width;
    if (img.naturalWidth > wide && shown + 1 < wide) {
      shrunk.push(`${(img.getAttribute('alt') || img.src).slice(0, 50)}: ${Math.round(shown)} of ${img.naturalWidth} px`);
    }
  }
  return {overflow: Math.max(doc.scrollWidth, document.body.scrollWidth) - width,
          scrolling_boxes: boxes.filter(b => b.classList.contains('is-scrollable')).length,
          cut, offscreen, shrunk};
}"""


@pytest.mark.parametrize("path", PAGES)
def test_phone_layout(phone_page, base_url, path):
    """At 390 px: no sideways page scroll; wide equations and code scroll in their own box,
    marked (shadow cue) and reachable by keyboard; animation controls on screen; wide
    figures keep a legible size (they scroll in their box) instead of shrinking."""
    open_settled(phone_page, base_url + path)
    phone_page.evaluate("() => document.querySelectorAll('.bd-article img').forEach(i => { i.loading = 'eager'; })")
    phone_page.evaluate(JS_IMAGES)
    phone_page.evaluate("() => window.bookSite && window.bookSite.refresh()")
    phone_page.wait_for_timeout(600)
    layout = phone_page.evaluate(JS_PHONE_LAYOUT, WIDE_FIGURE)
    shots = SCREENSHOTS / "phone"
    shots.mkdir(parents=True, exist_ok=True)
    phone_page.screenshot(
        path=str(shots / (path.replace("/", "__").removesuffix(".html") + ".png")),
        full_page=True, animations="disabled", caret="hide",
    )
    _shell(path).update(phone_overflow_px=layout["overflow"], phone_scrolling_boxes=layout["scrolling_boxes"])
    problems = []
    if layout["overflow"] > 0:
        problems.append(f"the page is {layout['overflow']} px wider than the 390 px screen")
    problems += [f"cut off with no scroll cue: {c}" for c in layout["cut"]]
    problems += [f"animation control off screen: {c}" for c in layout["offscreen"]]
    problems += [f"figure shrunk below {WIDE_FIGURE} px: {c}" for c in layout["shrunk"]]
    assert not problems, f"{path} at 390 px:\n" + "\n".join(problems)


AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5), count: v.nodes.length}));
}"""


@pytest.mark.parametrize("path", PAGES)
def test_accessibility(mode_page, axe_source, base_url, path):
    """axe-core (every rule it runs by default, none disabled) finds no critical or serious
    violation, in light and in dark mode, with equations typeset and widgets drawn."""
    open_settled(mode_page, base_url + path)
    assert mode_page.evaluate("() => document.documentElement.dataset.theme") == mode_page.mode
    mode_page.add_script_tag(content=axe_source)
    violations = mode_page.evaluate(AXE_RUN)
    counts: dict[str, int] = {}
    for v in violations:
        counts[v["impact"] or "none"] = counts.get(v["impact"] or "none", 0) + v["count"]
    _shell(path)[f"axe_{mode_page.mode}"] = counts
    bad = [v for v in violations if v["impact"] in ("critical", "serious")]
    assert not bad, f"{path} ({mode_page.mode} mode):\n" + "\n".join(
        f"{v['impact']} {v['id']} x{v['count']}: {v['help']} at {v['nodes']}" for v in bad
    )


def test_dark_mode_in_one_click(browser, base_url):
    """From light mode, one click on the colour-mode button turns the page dark, the next
    turns it light again, and the choice holds on the next page."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, color_scheme="light")
    try:
        pg = context.new_page()
        pg.goto(base_url + PAGES[0], wait_until="load")
        theme = "() => document.documentElement.dataset.theme"
        assert pg.evaluate(theme) == "light"
        button = pg.locator(".theme-switch-button:visible").first
        assert button.get_attribute("aria-pressed") == "false"
        button.click()
        assert pg.evaluate(theme) == "dark"
        assert button.get_attribute("aria-pressed") == "true"
        background = pg.evaluate("() => getComputedStyle(document.body).backgroundColor")
        assert background != "rgb(255, 255, 255)", background
        pg.goto(base_url + CHAPTERS[0], wait_until="load")
        assert pg.evaluate(theme) == "dark"
        pg.locator(".theme-switch-button:visible").first.click()
        assert pg.evaluate(theme) == "light"
    finally:
        context.close()


JS_FOCUS = """() => {
  const e = document.activeElement;
  if (!e || e === document.body) return null;
  return {tag: e.tagName.toLowerCase(), cls: String(e.className || ''), id: e.id || '',
          text: (e.getAttribute('aria-label') || e.textContent || '').trim().slice(0, 40),
          anim: !!e.closest('.animation'), skip: !!e.closest('#pst-skip-link'),
          scrolling_code: e.matches('pre.is-scrollable')};
}"""

JS_CODE_TAB_STOPS = """() => {
  const stops = Array.from(document.querySelectorAll(
    '.bd-article pre, .bd-article div.highlight, .bd-article mjx-container, .bd-article .cell_output > .output'));
  return stops.filter(e => e.tabIndex >= 0 && e.getAttribute('tabindex') !== null)
              .filter(e => !(e.scrollWidth > e.clientWidth + 2 || e.scrollHeight > e.clientHeight + 2))
              .map(e => e.tagName.toLowerCase() + ': ' + e.textContent.trim().slice(0, 50));
}"""

JS_ANIMATION_SECTIONS = """() => Array.from(document.querySelectorAll('.bd-article .animation')).map(a => {
  const section = a.closest('section[id]');
  return section ? section.id : null;
})"""


@pytest.mark.parametrize("path", CHAPTERS)
def test_keyboard_reach(page, base_url, path):
    """The first Tab reaches the skip link; code, equations and outputs are tab stops only
    when they scroll; from its section (the page's table of contents links there), each
    animation's controls are a few Tab presses away."""
    url = base_url + path
    open_settled(page, url)
    problems = [f"tab stop that does not scroll: {c}" for c in page.evaluate(JS_CODE_TAB_STOPS)]
    page.goto(url, wait_until="load")
    page.keyboard.press("Tab")
    first = page.evaluate(JS_FOCUS)
    if not (first and first["skip"]):
        problems.append(f"first Tab stop is not the skip link but {first}")
    presses = []
    for section in page.evaluate(JS_ANIMATION_SECTIONS):
        if section is None:
            problems.append("an animation outside any section")
            continue
        page.goto(f"{url}#{section}", wait_until="load")
        page.evaluate(JS_SETTLED)
        page.goto(f"{url}#{section}")  # same-document: moves the focus starting point here
        counted = code = 0
        while counted < MAX_TABS_TO_ANIMATION and code < 200:
            page.keyboard.press("Tab")
            focus = page.evaluate(JS_FOCUS)
            if focus and focus["scrolling_code"]:
                code += 1
                continue
            counted += 1
            if focus and focus["anim"]:
                presses.append({"section": section, "presses": counted, "scrolling_code_boxes": code})
                break
        else:
            problems.append(f"animation in #{section}: no control within {MAX_TABS_TO_ANIMATION} Tab presses")
    _shell(path)["tabs_to_animation_controls"] = presses
    assert not problems, f"{path}:\n" + "\n".join(problems)


@pytest.mark.parametrize("path", CHAPTERS)
def test_chapter_weight(browser, base_url, path):
    """A chapter page, opened with an empty cache, transfers at most 3 MB until the network
    is idle. Counted: every response's bytes on the wire (Chrome DevTools Protocol). Not
    counted, by design: images below the fold (they load lazily as the reader scrolls) and
    the widget manager (loaded when a widget comes within a screen or so of view)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        pg = context.new_page()
        cdp = context.new_cdp_session(pg)
        cdp.send("Network.enable")
        cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
        sizes: dict[str, int] = {}
        urls: dict[str, str] = {}
        cdp.on("Network.requestWillBeSent", lambda e: urls.__setitem__(e["requestId"], e["request"]["url"]))
        cdp.on("Network.loadingFinished", lambda e: sizes.__setitem__(e["requestId"], e["encodedDataLength"]))
        pg.goto(base_url + path, wait_until="load")
        pg.evaluate("() => window.MathJax && window.MathJax.startup ? window.MathJax.startup.promise.then(() => null) : null")
        pg.wait_for_load_state("networkidle")
        pg.wait_for_timeout(500)
        total = sum(sizes.values())
        _shell(path).update(bytes_transferred=total, requests=len(sizes))
        largest = sorted(((n, urls.get(r, "?")) for r, n in sizes.items()), reverse=True)[:5]
        assert total <= MAX_CHAPTER_BYTES, (
            f"{path}: {total:,} bytes transferred (limit {MAX_CHAPTER_BYTES:,}); largest: "
            + ", ".join(f"{u.removeprefix(base_url)[:60]} {n:,}" for n, u in largest)
        )
    finally:
        context.close()
