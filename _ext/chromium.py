"""Where Debian's Chromium is and how every tool here starts it (headless, as root, offline).

Used by the browser tests (tests/test_site.py), the PDF edition (_ext/pdf_edition.py) and
the first-paint benchmark. Without the background-networking flags Chromium tries to reach
Google's hosts at every start, which this project's machines refuse.
"""

from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
