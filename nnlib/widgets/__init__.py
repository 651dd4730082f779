"""Interactive figures for the chapters, one module per chapter.

Each widget is built by a function that returns an ``ipywidgets`` control whose
callback redraws into an explicit ``Output`` (no ``interact``), so it can be
unit-tested and its callback time measured. On the static website the controls
are frozen; run ``make lab`` to make them live.
"""
