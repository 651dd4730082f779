"""The print edition: the whole book as one PDF, ``_build/pdf/book.pdf`` (``make pdf``).

Chromium prints the built website. Every page of ``_toc.yml`` is taken from
``_build/html`` (its article only, in table-of-contents order) and put in one document
with a title page and a table of contents; headless Chromium (through Playwright, which
the browser test already uses) typesets the equations with the site's own MathJax, draws
the widgets, sets each animation to its last frame and prints the document with the
site's print stylesheet (``_ext/static/print.css``) and page numbers in the footer. It is
printed twice: the first print tells on which page each chapter starts (read back with
pypdfium2), the second has those numbers in the table of contents.

Why not Sphinx's LaTeX builder: the chapters' outputs are HTML (exercise checks, widget
views, matplotlib's JavaScript animations), which LaTeX drops, and a TeX installation with
CJK support for the glossary is about 1 GB from apt. Printing the site keeps what a reader
sees on the website, needs only Chromium and a CJK font (Debian's ``fonts-noto-cjk``,
installed by ``.ci/run`` when missing), and takes about a minute.
"""

from __future__ import annotations

import argparse
import functools
import posixpath
import re
import shutil
import subprocess
import sys
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import yaml
from bs4 import BeautifulSoup
from chromium import CHROMIUM, CHROMIUM_ARGS  # _ext/chromium.py, beside this script

ROOT = Path(__file__).resolve().parent.parent
HTML = ROOT / "_build" / "html"
OUT = ROOT / "_build" / "pdf" / "book.pdf"
# A4 with these margins; the text column is 210 - 2 * 16 = 178 mm = 673 CSS px wide.
MARGIN = {"top": "16mm", "bottom": "18mm", "left": "16mm", "right": "16mm"}
COLUMN_PX = 673
DOCUMENT = "__print_edition__.html"  # served in memory at the site's root
FOOTER = (
    '<div style="width:100%;font-size:8pt;color:#333;text-align:center;'
    'font-family:sans-serif"><span class="pageNumber"></span></div>'
)
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


def toc() -> list[tuple[str | None, str]]:
    """(part caption, page path) for every page of _toc.yml, in order."""
    data = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    pages: list[tuple[str | None, str]] = [(None, f"{data['root']}.html")]

    def walk(entries, caption):
        for entry in entries or []:
            if "file" in entry:
                pages.append((caption, f"{Path(entry['file']).with_suffix('')}.html"))
            walk(entry.get("sections"), caption)

    for part in data.get("parts", []):
        walk(part.get("chapters"), part.get("caption"))
    walk(data.get("chapters"), None)
    return pages


def _key(path: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]+", "-", path.removesuffix(".html"))


def _rewrite(url: str, page: str, book: set[str]) -> str:
    """A URL of ``page`` as seen from the site's root; links into the book become anchors."""
    if not url or url.startswith(("http:", "https:", "mailto:", "data:", "javascript:")):
        return url
    if url.startswith("#"):
        return f"#{_key(page)}--{url[1:]}" if url[1:] else f"#{_key(page)}--"
    target, _, fragment = url.partition("#")
    resolved = posixpath.normpath(posixpath.join(posixpath.dirname(page), target))
    if resolved in book:
        return f"#{_key(resolved)}--{fragment}"
    return resolved + (f"#{fragment}" if fragment else "")


def article(page: str, book: set[str]) -> tuple[str, str, list[str], list[str]]:
    """Title, article HTML, widget-state scripts and head assets of one built page."""
    soup = BeautifulSoup((HTML / page).read_text(encoding="utf-8"), "html.parser")
    body = soup.select_one("article.bd-article")
    if body is None:
        raise SystemExit(f"make pdf: {page} has no article (is _build/html a Jupyter Book build?)")
    # solutions, permalinks, copy buttons, and the theme's per-page print header (this book has one
    # table of contents, and the page's title is its own h1)
    for node in body.select(".solution, a.headerlink, button.copybtn, #print-main-content"):
        node.decompose()
    heading = body.find("h1")
    title = " ".join(heading.get_text(" ").split()) if heading else page
    key = _key(page)
    for tag in body.find_all(True):
        if tag.get("id") and not tag["id"].startswith("_anim"):
            tag["id"] = f"{key}--{tag['id']}"
        for attr in ("href", "src"):
            if tag.get(attr):
                tag[attr] = _rewrite(tag[attr], page, book)
    states = [str(s) for s in soup.find_all("script", type=WIDGET_STATE)]
    assets = []
    for tag in soup.head.find_all(["link", "script"]):
        if tag.get("type") == WIDGET_STATE or (tag.name == "link" and "stylesheet" not in (tag.get("rel") or [])):
            continue
        for attr in ("href", "src"):
            if tag.get(attr):
                tag[attr] = _rewrite(tag[attr], page, set())
        if tag.name == "link" and tag.get("media") == "print":
            del tag["media"]  # the print edition is printed, of course
        assets.append(str(tag))
    return title, f'<section class="print-chapter" id="{key}--">{body.decode_contents()}</section>', states, assets


def document(numbers: dict[str, int] | None = None) -> tuple[str, list[tuple[str | None, str, str]]]:
    pages = toc()
    book = {p for _, p in pages}
    head: list[str] = []
    states: list[str] = []
    chapters: list[str] = []
    entries: list[tuple[str | None, str, str]] = []
    for caption, page in pages:
        title, body, page_states, assets = article(page, book)
        head += [a for a in assets if a not in head]
        states += page_states
        chapters.append(body)
        entries.append((caption, page, title))
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    toc_items = []
    last_caption = None
    for caption, page, title in entries:
        if caption and caption != last_caption:
            toc_items.append(f'<li class="print-toc-part"><span class="print-toc-title">{caption}</span></li>')
            last_caption = caption
        number = (numbers or {}).get(page, "")
        toc_items.append(
            f'<li><a class="print-toc-title" href="#{_key(page)}--">{title}</a>'
            f'<span class="print-toc-dots"></span><span class="print-toc-page">{number}</span></li>'
        )
    front = (
        f'<section class="print-title-page"><h1>{config["title"]}</h1>'
        f'<p>{config.get("author", "")}</p>'
        "<p>Print edition. Solutions to the exercises, the live widgets and the playing "
        "animations are on the website.</p></section>"
        f'<nav class="print-toc"><h2>Contents</h2><ol>{"".join(toc_items)}</ol></nav>'
    )
    html = (
        '<!DOCTYPE html><html lang="en" data-theme="light" data-mode="light"><head><meta charset="utf-8">'
        f'<title>{config["title"]}</title>' + "".join(head) + "".join(states) + "</head>"
        '<body data-default-mode="light"><div class="bd-article-container"><article class="bd-article">'
        + front + "".join(chapters) + "</article></div></body></html>"
    )
    return html, entries


JS_READY = """async () => {
  if (window.bookWidgets) await window.bookWidgets.load();
  const views = Array.from(document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]'));
  const t0 = Date.now();
  const drawn = () => views.filter(s => s.parentElement.querySelector('.jupyter-widgets')).length;
  while (drawn() < views.length && Date.now() - t0 < 30000) {
    await new Promise(r => setTimeout(r, 200));
  }
  const widgetSeconds = (Date.now() - t0) / 1000;
  if (window.MathJax && MathJax.startup) await MathJax.startup.promise;
  const imgs = Array.from(document.images);
  imgs.forEach(i => { i.loading = 'eager'; });
  await Promise.all(imgs.map(i => i.complete ? null : new Promise(r => { i.onload = i.onerror = r; })));
  await document.fonts.ready;
  // each animation shows its last frame (its caption says so)
  for (const img of document.querySelectorAll('.animation img[id^="_anim_img"]')) {
    const anim = window['anim' + img.id.slice('_anim_img'.length)];
    if (anim && anim.last_frame) { anim.pause_animation && anim.pause_animation(); anim.last_frame(); }
  }
  await new Promise(r => setTimeout(r, 300));
  // display equations wider than the column are scaled down to fit it
  let scaled = 0;
  for (const box of document.querySelectorAll('div.math')) {
    const math = box.querySelector('mjx-container');
    if (!math) continue;
    const need = math.scrollWidth, room = box.clientWidth;
    if (need > room + 1) { math.style.zoom = (room / need * 0.98).toFixed(3); scaled++; }
  }
  return {views: views.length, drawn: drawn(), widgetSeconds, scaled};
}"""


def _serve(directory: Path):
    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, format, *args):  # noqa: A002 - signature from the base class
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(directory)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def page_texts(pdf: bytes | Path) -> list[str]:
    """The text of every page of a PDF (pypdfium2, PDFium's text layer)."""
    import pypdfium2

    doc = pypdfium2.PdfDocument(pdf)
    try:
        return [doc[i].get_textpage().get_text_range() for i in range(len(doc))]
    finally:
        doc.close()


def chapter_pages(pdf: bytes, entries) -> dict[str, int]:
    """The page (1-based, as printed in the footer) on which each page of the book starts.

    Read from the PDF's outline, which Chromium makes from the headings: its top-level
    bookmarks are the h1 headings in order, the title page's and then one per page of the
    book. (Chromium repeats pieces of a heading's text in the bookmark's title, so titles
    are only checked to contain the heading's first word.)
    """
    import pypdfium2

    doc = pypdfium2.PdfDocument(pdf)
    try:
        marks = [
            (m.get_title(), m.get_dest().get_index() + 1)
            for m in doc.get_toc(max_depth=8)
            if m.level == 0 and m.get_dest() is not None
        ][1:]
    finally:
        doc.close()
    starts: dict[str, int] = {}
    if len(marks) != len(entries):
        print(f"make pdf: {len(marks)} chapter bookmarks for {len(entries)} pages; contents left unnumbered")
        return starts
    for (title_in_pdf, number), (_, page, title) in zip(marks, entries, strict=True):
        words = [w for w in title.split() if not w.rstrip(".").isdigit()]
        if not words or words[0] in title_in_pdf:
            starts[page] = number
    return starts


def check_cjk_font() -> None:
    fc = shutil.which("fc-list")
    if fc is None:
        return
    found = subprocess.run([fc, ":lang=zh", "family"], capture_output=True, text=True).stdout.strip()
    if not found:
        raise SystemExit(
            "make pdf: no Chinese font installed, so the glossary's Chinese terms would print as boxes.\n"
            "Install one, for example on Debian: apt-get install -y fonts-noto-cjk"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--verbose", action="store_true", help="say how long each step took")
    args = parser.parse_args(argv)
    if not (HTML / "index.html").exists():
        raise SystemExit("make pdf: build the site first (make html)")
    if not CHROMIUM.exists():
        raise SystemExit(f"make pdf: {CHROMIUM} not found (apt-get install -y chromium)")
    check_cjk_font()
    from playwright.sync_api import sync_playwright

    start = time.perf_counter()

    def log(message: str) -> None:
        if args.verbose:
            print(f"  {time.perf_counter() - start:5.1f} s  {message}", flush=True)

    server = _serve(HTML)
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    html, entries = document()
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": COLUMN_PX, "height": 1000})
            state = {"html": html}
            page.route(base + DOCUMENT, lambda route: route.fulfill(body=state["html"], content_type="text/html"))
            pdf = b""
            for numbers in (None, "from the first print"):
                if numbers:
                    state["html"], _ = document(chapter_pages(pdf, entries))
                page.emulate_media(media="print")
                page.goto(base + DOCUMENT, wait_until="load", timeout=120_000)
                ready = page.evaluate(JS_READY)
                log(f"laid out ({ready['drawn']} of {ready['views']} widget views drawn)")
                pdf = page.pdf(
                    format="A4",
                    margin=MARGIN,
                    print_background=True,
                    display_header_footer=True,
                    header_template="<span></span>",
                    footer_template=FOOTER,
                    outline=True,
                    tagged=True,
                )
                log(f"printed {'with' if numbers else 'without'} page numbers in the contents")
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(pdf)
    count = len(page_texts(pdf))
    print(
        f"make pdf: wrote {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}: "
        f"{count} pages, {len(pdf) / 1e6:.1f} MB, {len(entries)} pages of the site, "
        f"{ready['views']} widget views, {ready['scaled']} equations scaled to fit "
        f"({time.perf_counter() - start:.0f} s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
