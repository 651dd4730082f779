"""Sphinx extension: the site's own assets, served from the site itself, and a light page.

The assets come from ``node_modules`` (pinned in package.json, installed by ``npm ci``)
and from ``_ext/static``. They are copied into ``<html>/_static/vendor/`` after the build,
*not* placed in the book's own ``_static/`` folder: Jupyter Book 1 would add every .js/.css
file found there to every page. ``_config.yml`` points ``mathjax_path`` and myst-nb's
``nb_ipywidgets_js`` at these copies with relative paths, so the site also works under a
sub-path.

What a page loads, and why (a chapter must stay under 3 MB and paint early):

* MathJax as separate components (startup, TeX input, CommonHTML output, assistive
  MathML) without the 0.4 MB context menu that the combined ``tex-chtml.js`` carries;
* the widget manager only on pages that embed widget state, loaded by
  ``widgets-loader.js`` when a widget comes near the screen (never render-blocking);
* icons from a small subset of Font Awesome's solid font, written at the end of the
  build with just the icons that the built pages use (the theme's ``fontawesome.js``, a
  1.5 MB script, is left out by ``_ext/templates/layout.html``);
* the search index only on the search page (same template);
* images below the fold load lazily.
"""

from __future__ import annotations

import filecmp
import hashlib
import io
import posixpath
import re
import shutil
from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.errors import ExtensionError

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
NODE_MODULES = ROOT / "node_modules"

# destination (under _static/vendor) -> source (under node_modules)
ASSETS = {
    "mathjax": "mathjax/es5",
    # the self-contained build of the widget manager (standard ipywidgets only, no RequireJS)
    "html-manager/embed.js": "@jupyter-widgets/html-manager/dist/embed.js",
    # licences travel with the code
    "fontawesome-free/LICENSE.txt": "@fortawesome/fontawesome-free/LICENSE.txt",
    "mathjax/LICENSE": "mathjax/LICENSE",
    "html-manager/embed.js.LICENSE.txt": "@jupyter-widgets/html-manager/dist/embed.js.LICENSE.txt",
}
# The widget manager's bundled icon fonts (content-hashed names), served beside it:
# widgets-loader.js sets the manager's asset path to that folder.
FONT_SUFFIXES = (".woff2", ".woff", ".ttf", ".eot", ".svg")
HTML_MANAGER_DIST = "@jupyter-widgets/html-manager/dist"
# Font Awesome 6 (the version the book theme is written for): the stylesheet that names
# each icon's code point, and the solid font that the site's icons come from.
FA_CSS = "@fortawesome/fontawesome-free/css/fontawesome.css"
FA_SOLID = "@fortawesome/fontawesome-free/webfonts/fa-solid-900.ttf"
ICONS_CSS = "icons/icons.css"  # under _static/vendor, written by write_icons()
ICONS_FONT = "icons/fa-solid-subset.woff"
# Icons that scripts add to a page after it loads (the theme's banner close button).
ICONS_FROM_SCRIPTS = ("fa-xmark", "fa-chevron-down")
# Stylesheets that notebook outputs link from a CDN, and the local copy (under _static/vendor)
# served instead. matplotlib's ``Animation.to_jshtml()`` links Font Awesome 4 for its
# play/step buttons; every icon it uses has the same name in Font Awesome 6.
CDN_REPLACEMENTS = {
    "https://maxcdn.bootstrapcdn.com/font-awesome/4.4.0/css/font-awesome.min.css": (
        f"vendor/{ICONS_CSS}"
    ),
}
# Our own scripts and stylesheets, copied from _ext/static/ to _static/vendor/.
OWN_FILES = ("widgets-mathjax3.js", "widgets-loader.js", "site.js", "site.css", "print.css")


def _copy_file(src: Path, dst: Path) -> None:
    if dst.exists() and filecmp.cmp(src, dst, shallow=True):
        return
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(src, dst)


def _copy(src: Path, dst: Path) -> None:
    if src.is_dir():
        for path in src.rglob("*"):
            if path.is_file():
                _copy_file(path, dst / path.relative_to(src))
    else:
        _copy_file(src, dst)


def check_assets(app: Sphinx) -> None:
    """Fail early, with the fix, when ``npm ci`` has not been run."""
    if app.builder.format != "html":
        return
    missing = [src for src in ASSETS.values() if not (NODE_MODULES / src).exists()]
    if missing:
        raise ExtensionError(
            f"offline site assets missing from {NODE_MODULES}: {', '.join(missing)}. "
            "Run `npm ci` in the repository root (or `make html`, which does it)."
        )


def copy_assets(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    vendor = Path(app.outdir) / "_static" / "vendor"
    for dst, src in ASSETS.items():
        _copy(NODE_MODULES / src, vendor / dst)
    for name in OWN_FILES:
        _copy_file(HERE / "static" / name, vendor / name)
    for font in (NODE_MODULES / HTML_MANAGER_DIST).iterdir():
        if font.suffix in FONT_SUFFIXES:
            _copy_file(font, vendor / "html-manager" / font.name)
    write_icons(Path(app.outdir), vendor)


def _write_if_changed(path: Path, data: bytes) -> None:
    if path.exists() and path.read_bytes() == data:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def write_icons(outdir: Path, vendor: Path) -> None:
    """Write an icon stylesheet and a font holding only the icons the built pages use.

    The names are collected from every built page (``fa-...`` classes); Font Awesome's
    stylesheet gives each name's code point. The rest of Font Awesome's stylesheet (sizes,
    flips, ...) is kept as it is. About 10 kB in all, against 1.5 MB for the theme's script.
    """
    from fontTools import subset  # a dependency of matplotlib, pinned in requirements.txt

    css = (NODE_MODULES / FA_CSS).read_text(encoding="utf-8")
    rules = re.compile(r'\.(fa-[a-z0-9-]+)::before \{\s*content: "\\([0-9a-f]+)"; \}\s*')
    codepoints = {m.group(1): m.group(2) for m in rules.finditer(css)}
    used = set(ICONS_FROM_SCRIPTS)
    for page in outdir.rglob("*.html"):
        used.update(re.findall(r"\bfa-[a-z0-9-]+", page.read_text(encoding="utf-8", errors="replace")))
    icons = sorted(name for name in used if name in codepoints)

    options = subset.Options()
    options.flavor = "woff"  # zlib-compressed; woff2 would need the brotli module
    options.layout_features = []
    options.name_IDs = ["*"]  # keep the font's copyright and licence names
    font = subset.load_font(str(NODE_MODULES / FA_SOLID), options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted({int(codepoints[name], 16) for name in icons}))
    subsetter.subset(font)
    buffer = io.BytesIO()
    subset.save_font(font, buffer, options)
    _write_if_changed(vendor / ICONS_FONT, buffer.getvalue())

    utilities = rules.sub("", css)  # everything but the per-icon rules
    font_face = (
        '@font-face { font-family: "Font Awesome 6 Free"; font-style: normal; font-weight: 900;'
        f' font-display: block; src: url("{Path(ICONS_FONT).name}") format("woff"); }}\n'
        ".fa, .fas, .fa-solid { font-family: \"Font Awesome 6 Free\"; font-weight: 900; }\n"
    )
    icon_rules = "".join(f'.{name}::before {{ content: "\\{codepoints[name]}"; }}\n' for name in icons)
    text = (
        "/* Font Awesome Free 6 (https://fontawesome.com, icons CC BY 4.0, font SIL OFL 1.1,"
        " code MIT; see ../fontawesome-free/LICENSE.txt): the icons this site uses. */\n"
        + font_face
        + utilities
        + icon_rules
    )
    _write_if_changed(vendor / ICONS_CSS, text.encode("utf-8"))


def localise_cdn_links(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """Point CDN stylesheet links inside raw HTML outputs at the vendored copies."""
    if app.builder.format != "html":
        return
    static = posixpath.relpath("_static", posixpath.dirname(docname) or ".")
    for node in list(doctree.findall(nodes.raw)):
        if "html" not in node.get("format", "").split():
            continue
        text = node.astext()
        new = text
        for cdn, local in CDN_REPLACEMENTS.items():
            new = new.replace(cdn, f"{static}/{local}")
        if new != text:
            node.replace_self(nodes.raw(node.rawsource, new, **node.attributes))


def drop_thebe(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """Remove sphinx-thebe's scripts: live kernels need a network, and it declares its
    configuration constants twice on a page (a console error)."""
    scripts = context.get("script_files", [])
    context["script_files"] = [
        js
        for js in scripts
        if "sphinx-thebe" not in str(js.filename)
        and "THEBE_JS_URL" not in js.attributes.get("body", "")
    ]
    css = context.get("css_files", [])
    context["css_files"] = [c for c in css if "sphinx-thebe" not in str(c.filename)]


# Page-body fixes, applied to the HTML that Sphinx writes.
_IMG_WITHOUT_LOADING = re.compile(r"<img (?![^>]*\bloading=)")


def tidy_body(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """Lazy images, and a bibliography that assistive technology can read as a list.

    docutils marks each entry of a citation list (``role="list"``) with the deprecated
    ``doc-biblioentry`` role, which is not a list item (axe: aria-required-children).
    """
    body = context.get("body")
    if not body:
        return
    body = _IMG_WITHOUT_LOADING.sub('<img loading="lazy" decoding="async" ', body)
    body = body.replace('role="doc-biblioentry"', 'role="listitem"')
    context["body"] = body


def _fingerprint() -> str:
    """Changes whenever this extension or its files change, so Sphinx rewrites every page."""
    digest = hashlib.sha256(Path(__file__).read_bytes())
    for path in sorted(HERE.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def setup(app: Sphinx) -> dict:
    app.add_config_value("offline_assets_fingerprint", _fingerprint(), "env")
    app.connect("builder-inited", check_assets)
    app.connect("build-finished", copy_assets)
    app.connect("doctree-resolved", localise_cdn_links)
    app.connect("html-page-context", drop_thebe, priority=900)
    app.connect("html-page-context", tidy_body)
    # every page: the icon subset, the site's styles (screen and print) and its script
    app.add_css_file(f"vendor/{ICONS_CSS}")
    app.add_css_file("vendor/site.css")
    app.add_css_file("vendor/print.css", media="print")
    app.add_js_file("vendor/site.js", loading_method="defer")
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
