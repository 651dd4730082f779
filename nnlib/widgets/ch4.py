"""Chapter 4's interactive figure: batch size and learning rate -> the digits training curve.

:func:`training_curve_widget` builds the live control (``ipywidgets``; its callback
trains a small network for a few epochs and redraws into an explicit ``Output``).
:func:`batch_size_animation` is the static-site version: the same curves pre-computed
for several batch sizes, as a matplotlib animation with its own slider.
"""

from __future__ import annotations

import numpy as np

from .._validate import positive_int, positive_number
from ..layers import mlp
from ..optim import SGD
from ..train import fit
from . import static_animation

#: Batch sizes offered by the widget (``None`` means the whole training set).
BATCH_SIZES = (4, 8, 16, 32, 64, 128, 256, None)


def train_curve(data, batch_size, lr, epochs=5, hidden=32, seed=0):
    """Train ``mlp([n, hidden, K])`` (ReLU) with plain SGD and return its per-epoch :class:`~nnlib.train.History`.

    ``data = (X_train, X_test, y_train, y_test)`` as returned by
    :func:`nnlib.data.load_digits`; ``batch_size=None`` uses the full training set.
    The same ``seed`` gives the same initial weights and batch order.
    """
    X_tr, X_te, y_tr, y_te = data
    lr = positive_number(lr, "lr", "A learning rate must be positive, e.g. 0.1.")
    epochs = positive_int(epochs, "epochs")
    B = len(X_tr) if batch_size is None else positive_int(batch_size, "batch_size")
    n_classes = int(max(y_tr.max(), y_te.max())) + 1
    model = mlp([X_tr.shape[1], hidden, n_classes], "relu", rng=seed)
    return fit(model, X_tr, y_tr, SGD(lr), epochs=epochs, batch_size=B, rng=seed + 1,
               validation_data=(X_te, y_te))


def _label(batch_size, n_train):
    return f"full batch ({n_train})" if batch_size in (None, n_train) else str(batch_size)


def _draw(axes, history, title):
    ax_loss, ax_acc = axes
    epochs = np.arange(1, len(history.loss) + 1)
    ax_loss.plot(epochs, history.loss, "o-", label="train")
    ax_loss.plot(epochs, history.val_loss, "s--", label="test")
    ax_loss.set(xlabel="epoch", ylabel="cross-entropy loss", yscale="log", title=title)
    ax_loss.legend()
    ax_acc.plot(epochs, history.accuracy, "o-", label="train")
    ax_acc.plot(epochs, history.val_accuracy, "s--", label="test")
    ax_acc.set(xlabel="epoch", ylabel="accuracy", ylim=(0, 1.02), title=f"test accuracy {history.val_accuracy[-1]:.1%}")
    ax_acc.legend(loc="lower right")


def training_curve_widget(data, epochs=5, hidden=32, seed=0):
    """Build the control: a batch-size selector and a learning-rate slider above the curves.

    Each change retrains from the same initial weights (a few epochs take well under a
    second for batch sizes from 8 up; very small batches take longer) and redraws into
    the ``Output``. The returned ``VBox`` has a ``redraw()`` method and the attributes
    ``batch_size``, ``lr`` and ``output`` for tests.
    """
    import ipywidgets as w
    import matplotlib.pyplot as plt

    n_train = len(data[0])
    # The full batch is offered as its size: a Dropdown value of None would mean "nothing selected".
    batch = w.Dropdown(
        options=[(_label(b, n_train), n_train if b is None else b) for b in BATCH_SIZES],
        value=32, description="batch size",
    )
    lr = w.FloatLogSlider(value=0.1, base=10, min=-3, max=0.5, step=0.25, description="learning rate",
                          readout_format=".3g", continuous_update=False)
    out = w.Output()

    def redraw(change=None):
        try:
            history = train_curve(data, batch.value, lr.value, epochs, hidden, seed)
            title = f"batch size {_label(batch.value, n_train)}, lr {lr.value:.3g}"
            error = None
        except FloatingPointError as err:  # TrainingDiverged: say so instead of plotting NaN
            history, error = None, str(err)
        with out:
            out.clear_output(wait=True)
            if error is not None:
                print(f"Training diverged: {error}")
                return
            fig, axes = plt.subplots(1, 2, figsize=(8, 3))
            _draw(axes, history, title)
            fig.tight_layout()
            plt.show()

    batch.observe(redraw, names="value")
    lr.observe(redraw, names="value")
    box = w.VBox([w.HBox([batch, lr]), out])
    box.redraw = redraw
    box.batch_size, box.lr, box.output = batch, lr, out
    redraw()
    return box


def batch_size_animation(data, batch_sizes=(8, 32, 128, None), lr=0.1, epochs=5, hidden=32, seed=0, dpi=60):
    """Static version: one frame per batch size, as HTML with a play/slider control (``to_jshtml``)."""
    import matplotlib.pyplot as plt
    from matplotlib import animation

    n_train = len(data[0])
    histories = [train_curve(data, b, lr, epochs, hidden, seed) for b in batch_sizes]
    fig, axes = plt.subplots(1, 2, figsize=(8, 3), dpi=dpi)

    def frame(k):
        for ax in axes:
            ax.clear()
        _draw(axes, histories[k], f"batch size {_label(batch_sizes[k], n_train)}, lr {lr:g}")
        fig.tight_layout()

    anim = animation.FuncAnimation(fig, frame, frames=len(batch_sizes), interval=1200)
    html = static_animation(anim, "ch4_batch_sizes")
    plt.close(fig)
    return html


__all__ = ["BATCH_SIZES", "train_curve", "training_curve_widget", "batch_size_animation"]
