"""Root pytest configuration: how nbval compares the stored chapter notebooks.

nbval re-runs every chapter (``make test`` passes ``--nbval``) and compares each cell's
fresh output with the stored one. Outputs that legitimately differ between runs are not
compared: stderr (library warnings whose wording changes between versions) and JavaScript
(set-up code emitted by plotting and widget libraries). Text that varies only in a known
way (memory addresses, temporary paths) is normalised by tests/nbval_sanitize.cfg.
A whole cell whose output varies (a timing) is tagged ``nbval-ignore-output`` instead.
"""

NBVAL_SKIP_COMPARE = ("stderr", "application/javascript")


def pytest_collectstart(collector):
    """Extend the output types that nbval's notebook collector does not compare."""
    skip = getattr(collector, "skip_compare", None)
    if skip is not None:  # only nbval's IPyNbFile has this attribute
        collector.skip_compare = (*skip, *NBVAL_SKIP_COMPARE)
