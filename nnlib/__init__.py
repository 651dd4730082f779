"""nnlib: the small numpy library that every chapter of *Backpropagation from Scratch* imports.

Chapters derive formulas by hand; nnlib keeps them, and every chapter checks that
its hand-written version equals nnlib's (and both equal finite differences).
"""

__version__ = "0.1.0"
