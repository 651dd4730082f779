"""Sphinx extension: serve MathJax, RequireJS and the widget manager from the site itself.

The assets come from ``node_modules`` (pinned in package.json, installed by ``npm ci``).
They are copied into ``<html>/_static/vendor/`` after the build, *not* placed in the
book's own ``_static/`` folder: Jupyter Book 1 would add every .js/.css file found there
to every page. ``_config.yml`` points ``mathjax_path`` and myst-nb's ``nb_ipywidgets_js``
at these copies with relative paths, so the site also works under a sub-path.
"""

from __future__ import annotations

import filecmp
import hashlib
import posixpath
import shutil
from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.errors import ExtensionError

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
NODE_MODULES = ROOT / "node_modules"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"

# destination (under _static/vendor) -> source (under node_modules)
ASSETS = {
    "mathjax": "mathjax/es5",
    "requirejs/require.js": "requirejs/require.js",
    "html-manager/embed-amd.js": "@jupyter-widgets/html-manager/dist/embed-amd.js",
    "fontawesome-free/css/all.min.css": "@fortawesome/fontawesome-free/css/all.min.css",
    "fontawesome-free/webfonts": "@fortawesome/fontawesome-free/webfonts",
    # licences travel with the code (require.js carries its own in its header)
    "fontawesome-free/LICENSE.txt": "@fortawesome/fontawesome-free/LICENSE.txt",
    "mathjax/LICENSE": "mathjax/LICENSE",
    "html-manager/embed.js.LICENSE.txt": "@jupyter-widgets/html-manager/dist/embed.js.LICENSE.txt",
}
# The widget manager's bundled Font Awesome files (content-hashed names). Its CSS asks for
# them at "@jupyter-widgets/html-manager/dist/<hash>.woff2" *relative to the page*, so a
# copy is placed beside every page that shows widgets (relative, so sub-paths work too).
FONT_SUFFIXES = (".woff2", ".woff", ".ttf", ".eot", ".svg")
HTML_MANAGER_DIST = "@jupyter-widgets/html-manager/dist"
# Stylesheets that notebook outputs link from a CDN, and the local copy (under _static/vendor)
# served instead. matplotlib's ``Animation.to_jshtml()`` links Font Awesome 4 for its
# play/step buttons; every icon it uses has the same name in Font Awesome 5.
CDN_REPLACEMENTS = {
    "https://maxcdn.bootstrapcdn.com/font-awesome/4.4.0/css/font-awesome.min.css": (
        "vendor/fontawesome-free/css/all.min.css"
    ),
}
# Our own small scripts, copied from _ext/static/ to _static/vendor/.
OWN_SCRIPTS = ("widgets-mathjax3.js",)


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
    for name in OWN_SCRIPTS:
        _copy_file(HERE / "static" / name, vendor / name)
    fonts = [f for f in (NODE_MODULES / HTML_MANAGER_DIST).iterdir() if f.suffix in FONT_SUFFIXES]
    outdir = Path(app.outdir)
    widget_dirs = {
        page.parent
        for page in outdir.rglob("*.html")
        if WIDGET_STATE in page.read_text(encoding="utf-8", errors="replace")
    }
    for folder in widget_dirs:
        for font in fonts:
            _copy_file(font, folder / HTML_MANAGER_DIST / font.name)


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


def _fingerprint() -> str:
    """Changes whenever this extension or its scripts change, so Sphinx rewrites every page."""
    digest = hashlib.sha256(Path(__file__).read_bytes())
    for name in OWN_SCRIPTS:
        digest.update((HERE / "static" / name).read_bytes())
    return digest.hexdigest()[:16]


def setup(app: Sphinx) -> dict:
    app.add_config_value("offline_assets_fingerprint", _fingerprint(), "env")
    app.connect("builder-inited", check_assets)
    app.connect("build-finished", copy_assets)
    app.connect("doctree-resolved", localise_cdn_links)
    app.connect("html-page-context", drop_thebe, priority=900)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
