"""Interactive figures for the chapters, one module per chapter.

Each widget is built by a function that returns an ``ipywidgets`` control whose
callback redraws into an explicit ``Output`` (no ``interact``), so it can be
unit-tested and its callback time measured. On the static website the controls
are frozen; run ``make lab`` to make them live.
"""

import re

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



def static_animation(anim, name: str) -> str:
    """HTML of a matplotlib animation with its own slider and play buttons, for the website.

    ``anim.to_jshtml`` is the kernel-free version of a widget. Two things are fixed so
    the output can be stored in a notebook and served offline:

    * its element ids are random on every run; they are replaced by ``name`` plus a
      counter, so re-executing the notebook gives byte-identical output (nbval);
    * it links an icon stylesheet from a public CDN; the link is dropped, because the
      site must request nothing from other hosts (the book theme already ships the
      icon font the buttons use).
    """
    html = anim.to_jshtml(default_mode="once")
    for i, uid in enumerate(dict.fromkeys(re.findall(r"[0-9a-f]{32}", html))):
        html = html.replace(uid, f"{name}{i}")
    return re.sub(r"<link[^>]*font-awesome[^>]*>", "", html)
