"""Chapter 4's interactive figure: batch size and learning rate -> the digits training curve.

:func:`training_curve_widget` builds the live control (``ipywidgets``; its callback
trains a small network for a few epochs and redraws into an explicit ``Output``).
:func:`batch_size_animation` is the static-site version: the same curves pre-computed
for several batch sizes, as a matplotlib animation with its own slider.
"""

from __future__ import annotations

import numpy as np

from .. import figures
from .._validate import positive_int, positive_number
from ..layers import mlp
from ..optim import SGD
from ..train import fit
from . import Panel, static_animation

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


def _legend(fig):
    """One legend above both panels (train and test look the same in each), clear of the data."""
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], color=figures.COLORS[0], ls="-", marker="o", label="train"),
               Line2D([], [], color=figures.COLORS[1], ls="--", marker="s", label="test")]
    fig.legend(handles=handles, loc="outside upper center", ncols=2)


def _draw(axes, history, title):
    ax_loss, ax_acc = axes
    epochs = np.arange(1, len(history.loss) + 1)
    ax_loss.plot(epochs, history.loss, "o-", color=figures.COLORS[0], label="train")
    ax_loss.plot(epochs, history.val_loss, "s--", color=figures.COLORS[1], label="test")
    ax_loss.set(xlabel="epoch", ylabel="cross-entropy loss", title=title)
    ax_acc.plot(epochs, history.accuracy, "o-", color=figures.COLORS[0], label="train")
    ax_acc.plot(epochs, history.val_accuracy, "s--", color=figures.COLORS[1], label="test")
    ax_acc.set(xlabel="epoch", ylabel="accuracy", ylim=(0, 1.02), title=f"test accuracy {history.val_accuracy[-1]:.1%}")
    for ax in axes:
        ax.set_xticks(epochs)


def _draw_diverged(axes, message, title, epochs):
    """A frame for a setting whose training diverged: empty axes that say so."""
    ax_loss, ax_acc = axes
    ax_loss.set(xlabel="epoch", ylabel="cross-entropy loss", title=title)
    ax_acc.set(xlabel="epoch", ylabel="accuracy", ylim=(0, 1.02), title="training diverged")
    for ax in axes:
        ax.set_xticks(np.arange(1, epochs + 1))
    ax_loss.text(0.5, 0.5, f"training diverged\n({message})", transform=ax_loss.transAxes,
                 ha="center", va="center", wrap=True)


_WIDGET_LOSS_TOP = 3.0  # fixed y-limit of the live loss panel (the initial loss is ln 10 = 2.3)


def training_curve_widget(data, epochs=5, hidden=32, seed=0):
    """Build the control: a batch-size selector and a learning-rate slider above the curves.

    Each change trains from the same initial weights for ``epochs`` epochs (a few tens of
    milliseconds for batches of 16 and more; batches of 4 and 8 take longer) and redraws.
    Two things keep a change well under 100 ms for most settings:

    * every trained curve is kept, so a setting seen before is only redrawn;
    * the figure is drawn once, with fixed axes; a redraw replaces the curves and titles
      on a stored background and encodes the pixels (the ``_Blitter`` of Chapter 1's
      explorers), instead of drawing a new figure.

    The returned :class:`~nnlib.widgets.Panel` has ``redraw()``, ``batch_size``, ``lr``,
    ``output`` and ``cache`` (setting -> history) for tests.
    """
    import ipywidgets as w
    from matplotlib.figure import Figure

    from .ch1 import _Blitter, _show_png

    epochs = positive_int(epochs, "epochs")
    n_train = len(data[0])
    # The full batch is offered as its size: a Dropdown value of None would mean "nothing selected".
    batch = w.Dropdown(
        options=[(_label(b, n_train), n_train if b is None else b) for b in BATCH_SIZES],
        value=32, description="batch size",
    )
    lr = w.FloatLogSlider(value=0.1, base=10, min=-3, max=0.5, step=0.25, description="learning rate",
                          readout_format=".3g", continuous_update=False)
    out = w.Output()

    with figures.style():
        fig = Figure(figsize=(figures.COLUMN_WIDTH, 3.0), dpi=100, layout="constrained")
        ax_loss, ax_acc = fig.subplots(1, 2)
        lines = {}
        for ax, key in ((ax_loss, "loss"), (ax_acc, "accuracy")):
            (lines[key],) = ax.plot([], [], "o-", color=figures.COLORS[0], label="train")
            (lines["val_" + key],) = ax.plot([], [], "s--", color=figures.COLORS[1], label="test")
            ax.set_xlim(0.7, epochs + 0.3)
            ax.set_xticks(np.arange(1, epochs + 1))
            ax.set_xlabel("epoch")
        ax_loss.set(ylabel="cross-entropy loss", ylim=(0, _WIDGET_LOSS_TOP))
        ax_acc.set(ylabel="accuracy", ylim=(0, 1.02))
        ax_acc.legend(loc="lower right")
        ax_loss.set_title("batch size, lr")  # as tall as the titles to come: the layout is kept
        ax_acc.set_title("test accuracy")
        note = ax_loss.text(0.5, 0.5, "", transform=ax_loss.transAxes, ha="center", va="center")
    blit = _Blitter(fig, [*lines.values(), ax_loss.title, ax_acc.title, note])
    blit.background("curves")
    cache = {}

    def redraw(change=None):
        key = (batch.value, round(lr.value, 12))
        if key not in cache:
            try:
                cache[key] = train_curve(data, batch.value, lr.value, epochs, hidden, seed)
            except FloatingPointError as err:  # TrainingDiverged: say so instead of plotting NaN
                cache[key] = str(err)
        history = cache[key]
        ax_loss.set_title(f"batch size {_label(batch.value, n_train)}, lr {lr.value:.3g}")
        if isinstance(history, str):
            for line in lines.values():
                line.set_data([], [])
            note.set_text("training diverged:\nlower the learning rate")
            ax_acc.set_title("training diverged")
            alt = f"Training diverged: {history}"
        else:
            x = np.arange(1, len(history.loss) + 1)
            for name, line in lines.items():
                values = np.asarray(getattr(history, name), dtype=float)
                line.set_data(x, np.minimum(values, _WIDGET_LOSS_TOP) if "loss" in name else values)
            note.set_text("")
            ax_acc.set_title(f"test accuracy {history.val_accuracy[-1]:.1%}")
            alt = (f"Training curves for batch size {_label(batch.value, n_train)} and learning rate "
                   f"{lr.value:.3g}: final test accuracy {history.val_accuracy[-1]:.1%}")
        _show_png(blit.png(), out, alt)

    batch.observe(redraw, names="value")
    lr.observe(redraw, names="value")
    # a Panel (a VBox) stores a short, stable text form in the notebook, not a long repr
    box = Panel([w.HBox([batch, lr]), out], "batch size and learning rate")
    box.redraw = redraw
    box.batch_size, box.lr, box.output, box.cache = batch, lr, out, cache
    redraw()
    return box


def _loss_limits(histories):
    """One pair of y-limits that holds every curve of every frame, from 0 up."""
    values = [v for h in histories if h is not None for v in (*h.loss, *h.val_loss) if np.isfinite(v)]
    return 0.0, (max(values) if values else 2.5) * 1.08


def batch_size_animation(data, batch_sizes=(8, 32, 128, None), lr=0.1, epochs=5, hidden=32, seed=0, dpi=100,
                         settings=None):
    """Static version: one frame per setting, as HTML with a play/slider control (``to_jshtml``).

    By default one frame per batch size of ``batch_sizes``, all at learning rate ``lr``;
    ``settings``, a sequence of ``(batch_size, lr)`` pairs, gives one frame per pair
    instead. Frames are drawn at the column width in the course style
    (:mod:`nnlib.figures`), at ``dpi`` (100: 700 px wide), and every frame has the same
    axes (epochs, loss and accuracy limits), so a change from one frame to the next is a
    change of the curves. A setting whose training diverges gets a frame that says so.
    """
    import matplotlib.pyplot as plt
    from matplotlib import animation

    n_train = len(data[0])
    epochs = positive_int(epochs, "epochs")
    pairs = [(b, lr) for b in batch_sizes] if settings is None else [(b, r) for b, r in settings]
    histories, messages = [], []
    for b, rate in pairs:
        try:
            histories.append(train_curve(data, b, rate, epochs, hidden, seed))
            messages.append(None)
        except FloatingPointError as err:  # TrainingDiverged
            histories.append(None)
            messages.append(str(err))
    loss_lim = _loss_limits(histories)

    # savefig.dpi "figure": the frames are saved at the figure's dpi, not the style's 150
    with figures.style(), plt.rc_context({"savefig.dpi": "figure"}):
        fig, axes = plt.subplots(1, 2, figsize=(figures.COLUMN_WIDTH, 3.0), dpi=dpi)

        def frame(k):
            for ax in axes:
                ax.clear()
            b, rate = pairs[k]
            title = f"batch size {_label(b, n_train)}, lr {rate:g}"
            if histories[k] is None:
                _draw_diverged(axes, messages[k], title, epochs)
            else:
                _draw(axes, histories[k], title)
            for ax in axes:  # the same axes on every frame
                ax.set_xlim(0.7, epochs + 0.3)
            axes[0].set_ylim(*loss_lim)
            axes[1].set_ylim(0, 1.02)

        _legend(fig)
        frame(0)
        fig.canvas.draw()  # constrained layout places the axes once, for the first frame ...
        fig.set_layout_engine("none")  # ... and every later frame keeps that place
        anim = animation.FuncAnimation(fig, frame, frames=len(pairs), interval=1500)
        settings_text = ", ".join(f"batch {_label(b, n_train)} at lr {r:g}" for b, r in pairs)
        alt = (f"loss and accuracy of a 64-{hidden}-10 network over {epochs} epochs of plain SGD, one "
               f"frame per setting ({settings_text}), all on the same axes")
        html = static_animation(anim, "ch4_batch_sizes", alt=alt)
    plt.close(fig)
    return html


__all__ = ["BATCH_SIZES", "train_curve", "training_curve_widget", "batch_size_animation"]
