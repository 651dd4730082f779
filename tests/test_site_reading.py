"""How the built pages read at 1280 px, the width of a laptop browser: nothing clipped, no
code block that scrolls sideways, figures legible at the size shown, alt text that says
something, and no frozen widget control on the static site.

Uses the server and browser of ``tests/test_site.py``. The counts per page go to
``_build/screenshots/reading.json``; every count must be zero.
"""

from __future__ import annotations

import json
import re

import pytest
from test_site import PAGES, SCREENSHOTS, base_url, browser, site  # noqa: F401 - fixtures

WIDTH = 1280
MIN_SCALE = 1 / 1.6  # an image shown below this fraction of its natural width is too small
CODE_COLUMNS = 88  # the chapters' line length (chapters/ruff.toml)

JS_READING = r"""async ({minScale, columns}) => {
  if (window.MathJax && window.MathJax.startup) await window.MathJax.startup.promise;
  const imgs = Array.from(document.querySelectorAll('article img'));
  imgs.forEach(i => { i.loading = 'eager'; });
  await Promise.all(imgs.map(i => i.complete ? null : new Promise(r => { i.onload = i.onerror = r; })));
  const shown = e => e.offsetParent !== null && e.getClientRects().length > 0;
  const text = e => (e.textContent || '').trim().slice(0, 70);
  const out = {clipped_equations: [], scrolling_blocks: [], small_images: [], bad_alt: [],
               frozen_controls: []};
  for (const m of document.querySelectorAll('article mjx-container[display="true"]')) {
    if (!shown(m)) continue;
    const box = m.parentElement.getBoundingClientRect();
    const math = m.querySelector('mjx-math').getBoundingClientRect();
    if (math.right > box.right + 1 || math.left < box.left - 1 || m.scrollWidth > m.clientWidth + 1)
      out.clipped_equations.push(m.querySelector('mjx-assistive-mml, math') ?
                                 text(m.querySelector('mjx-assistive-mml, math')) : text(m));
  }
  for (const pre of document.querySelectorAll('article pre')) {
    if (shown(pre) && pre.scrollWidth > pre.clientWidth + 1)
      out.scrolling_blocks.push(text(pre));
  }
  for (const img of imgs) {
    const alt = (img.getAttribute('alt') || '').trim();
    if (!alt || /\.(png|jpe?g|svg|gif|webp)$/i.test(alt) || /^[0-9a-f]{16,}$/i.test(alt) || alt.includes('/'))
      out.bad_alt.push(img.getAttribute('src').slice(0, 60) + ' alt=' + JSON.stringify(alt.slice(0, 40)));
    if (shown(img) && img.naturalWidth > 0 && img.clientWidth < img.naturalWidth * minScale)
      out.small_images.push(`${img.getAttribute('alt') || img.src.slice(0, 40)}: ` +
                            `${img.clientWidth} of ${img.naturalWidth} px`);
  }
  // A control in a cell's output that is not part of a kernel-free animation does nothing here
  // (the copy buttons of code blocks work without a kernel).
  for (const c of document.querySelectorAll('article .cell_output input, article .cell_output select, ' +
                                            'article .cell_output button, article .jupyter-widgets')) {
    if (!c.closest('.animation') && !c.classList.contains('copybtn') && shown(c))
      out.frozen_controls.push(c.className || c.tagName);
  }
  // Does a line of `columns` characters fit a code cell at the code font?
  const pre = document.querySelector('article div.cell_input pre');
  if (pre) {
    const probe = document.createElement('span');
    probe.textContent = 'x'.repeat(columns);
    pre.appendChild(probe);
    const style = getComputedStyle(pre);
    const room = pre.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    out.code_columns_fit = probe.getBoundingClientRect().width <= room + 0.5;
    out.code_room = [Math.round(probe.getBoundingClientRect().width), Math.round(room)];
    probe.remove();
  }
  return out;
}"""

RESULTS: dict[str, dict] = {}


@pytest.fixture(scope="module")
def reading_page(browser, base_url):  # noqa: F811 - fixtures from test_site
    context = browser.new_context(viewport={"width": WIDTH, "height": 900})
    pg = context.new_page()
    yield pg
    context.close()
    if RESULTS:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        totals = {key: sum(len(r.get(key, [])) for r in RESULTS.values())
                  for key in ("clipped_equations", "scrolling_blocks", "small_images", "bad_alt",
                              "frozen_controls")}
        (SCREENSHOTS / "reading.json").write_text(
            json.dumps({"width": WIDTH, "totals": totals, "per_page": RESULTS}, indent=2,
                       ensure_ascii=False) + "\n")


@pytest.mark.parametrize("path", PAGES)
def test_page_reads_at_laptop_width(reading_page, base_url, path):  # noqa: F811
    reading_page.goto(base_url + path, wait_until="load")
    found = reading_page.evaluate(JS_READING, {"minScale": MIN_SCALE, "columns": CODE_COLUMNS})
    RESULTS[path] = found
    problems = {key: found[key] for key in
                ("clipped_equations", "scrolling_blocks", "small_images", "bad_alt", "frozen_controls")
                if found[key]}
    assert not problems, f"{path} at {WIDTH} px: " + json.dumps(problems, indent=1, ensure_ascii=False)
    if "code_columns_fit" in found:
        assert found["code_columns_fit"], (
            f"{path}: {CODE_COLUMNS} characters need {found['code_room'][0]} px, the code column "
            f"has {found['code_room'][1]} px")


def test_reading_checks_see_the_chapters():
    """Guard against a selector that matches nothing: the chapter pages have equations,
    code blocks and figures for the checks above to look at."""
    chapters = [p for p in PAGES if re.match(r"chapters/0\d_", p)]
    assert len(chapters) == 5


JS_ANIMATIONS = r"""async () => {
  const result = [];
  for (const anim of document.querySelectorAll('article .animation')) {
    const slider = anim.querySelector('input[type=range]');
    const img = anim.querySelector('img');
    if (!slider || !img) { result.push({ok: false, why: 'no slider or image'}); continue; }
    const first = img.src;
    slider.value = slider.max;
    slider.dispatchEvent(new Event('input', {bubbles: true}));
    slider.dispatchEvent(new Event('change', {bubbles: true}));
    await new Promise(r => setTimeout(r, 50));
    result.push({ok: img.src !== first, frames: Number(slider.max) + 1,
                 why: img.src !== first ? '' : 'moving the slider did not change the frame'});
  }
  return result;
}"""


@pytest.mark.parametrize("path", [p for p in PAGES if re.match(r"chapters/0\d_", p)])
def test_each_chapter_has_a_kernel_free_animation_that_responds(reading_page, base_url, path):  # noqa: F811
    """The honest interactive figure of the static site: a slider that changes the frame."""
    reading_page.goto(base_url + path, wait_until="load")
    animations = reading_page.evaluate(JS_ANIMATIONS)
    assert animations, f"{path}: no kernel-free animation on the page"
    dead = [a["why"] for a in animations if not a["ok"]]
    assert not dead, f"{path}: {dead}"
