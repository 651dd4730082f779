"""Interactive figures for the chapters, one module per chapter.

Each widget is built by a function that returns an ``ipywidgets`` control whose
callback redraws into an explicit ``Output`` (no ``interact``), so it can be
unit-tested and its callback time measured. The live controls need a kernel
(``make lab``): their notebook cells are tagged ``remove-output``, so the website
shows no dead control, and each chapter puts a kernel-free animation
(:func:`nnlib.figures.static_animation`) in their place.
"""

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


# The drawing helper lives with the course figure style; kept importable from here.
from ..figures import static_animation  # noqa: E402

__all__ = ["Panel", "static_animation"]
