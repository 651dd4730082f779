"""Interactive figures for the chapters, one module per chapter.

Each widget is built by a function that returns an ``ipywidgets`` control whose
callback redraws into an explicit ``Output`` (no ``interact``), so it can be
unit-tested and its callback time measured. On the static website the controls
are frozen; run ``make lab`` to make them live.
"""

import re
from html import escape

import ipywidgets as widgets


class Panel(widgets.VBox):
    """A widget container with a short, stable text form.

    A notebook stores the ``text/plain`` form of every displayed value next to the
    widget view; a plain ``VBox`` would store its object repr, which changes on every
    run (and nbval would flag it). This stores ``<title: interactive figure>``.
    """

    def __init__(self, children, title):
        super().__init__(children)
        self._title = title

    def __repr__(self):
        return f"<{self._title}: interactive figure>"

    def connect(self, controls, update):
        """Call ``update()`` now and whenever one of ``controls`` (a dict name -> control) changes.

        The controls and ``update`` are kept as ``panel.controls`` and ``panel.update``, so
        tests (and the benchmark of callback latency) can drive the figure without a browser.
        """
        self.controls, self.update = dict(controls), update
        for control in self.controls.values():
            control.observe(lambda change: update(), names="value")
        update()
        return self



def static_animation(anim, name: str, alt: str | None = None) -> str:
    """HTML of a matplotlib animation with its own slider and play buttons, for the website.

    ``anim.to_jshtml`` is the kernel-free version of a widget. A few things are fixed so
    the output can be stored in a notebook, served offline and read by everyone:

    * its element ids are random on every run; they are replaced by ``name`` plus a
      counter, so re-executing the notebook gives byte-identical output (nbval);
    * it links an icon stylesheet from a public CDN; the link is dropped, because the
      site must request nothing from other hosts (the site serves the icon font the
      buttons use);
    * the frame picture gets ``alt`` as its text alternative (by default the figure's
      axes titles), and the frame slider a name;
    * a caption for the print edition, which shows the animation as one still frame
      at its last frame (hidden on screen by the site's stylesheet).
    """
    html = anim.to_jshtml(default_mode="once")
    for i, uid in enumerate(dict.fromkeys(re.findall(r"[0-9a-f]{32}", html))):
        html = html.replace(uid, f"{name}{i}")
    html = re.sub(r"<link[^>]*font-awesome[^>]*>", "", html)
    frames = len(re.findall(r"frames\[\d+\] = ", html))
    if alt is None:
        alt = _figure_description(anim)
    text = escape(f"Animation, {frames} frames: {alt}" if alt else f"Animation, {frames} frames")
    html = re.sub(r'<img id="(_anim_img[^"]*)">', rf'<img id="\1" alt="{text}">', html, count=1)
    html = html.replace(
        'class="anim-slider"', 'class="anim-slider" aria-label="animation frame"', 1
    )
    caption = (
        f'<p class="anim-print-caption">{text}. Shown at its last frame; '
        "the website plays it.</p>"
    )
    return html.replace('<div class="anim-controls">', caption + '\n  <div class="anim-controls">', 1)


def _figure_description(anim) -> str:
    """The titles of the animated figure's axes (and its suptitle), as one phrase."""
    fig = getattr(anim, "_fig", None)
    if fig is None:
        return ""
    titles = [fig._suptitle.get_text()] if getattr(fig, "_suptitle", None) else []
    titles += [ax.get_title() for ax in fig.axes]
    return "; ".join(t.strip() for t in titles if t and t.strip())
