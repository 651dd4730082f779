r"""Layers with one contract, and a sequential model (Chapters 3 and 4).

The contract (the one CS231n's ``layers.py`` made famous):

* ``forward(x)`` returns the output and keeps in ``self.cache`` what backward needs;
* ``backward(dout)`` takes :math:`\partial L/\partial\,\text{out}` (the output's shape),
  returns :math:`\partial L/\partial x` (``x``'s shape) and **writes** (does not add)
  the parameter gradients into ``grads``, a dict with the same keys and shapes as
  ``params``;
* ``zero_grad()`` sets every gradient to zero.

Input forms. Every layer accepts a single sample - a 1-D vector ``(n,)`` or a column
``(n, 1)`` as in Chapter 3 - or a batch ``(B, n)`` with one sample per row as in
Chapter 4, and returns its output in the same form. For a batch, ``W x`` becomes
``X W^T``.

Checked and trusted calls. ``forward`` and ``backward`` check their argument (a clear
error for ``None``, a wrong shape, NaN...) and then call ``_forward`` / ``_backward``,
which do the arithmetic on an array that is known to be fine. ``Sequential`` checks what
enters it and hands each layer's output to the next layer's ``_forward`` unchecked: the
array was made by nnlib from checked input. Only the one check of that chain that can
still fail - NaN or inf from an overflow - is kept, as one reduction on the output of
each layer that can overflow (``Linear``, ``PReLU``, ``Softmax``'s backward); if it
fires, the chain is run again with every layer's own checks, so the error raised is the
very one a layer-by-layer check gives.
"""

from __future__ import annotations

import numpy as np

from ._validate import (
    all_finite,
    as_float_array,
    check_activation,
    describe,
    get_rng,
    positive_int,
    real_number,
    resolve_dtype,
    sequence,
)
from .activations import sigmoid, softmax, softmax_backward
from .init import constant, get_initialiser


class Layer:
    """Base class: no parameters; subclasses override ``forward`` and ``backward``."""

    #: True when finite input always gives finite output, forward and backward (see
    #: ``Sequential``); the activations whose derivative is at most 1 in size set it.
    keeps_finite = False

    def __init__(self):
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.cache: tuple | None = None

    def forward(self, x):  # pragma: no cover - abstract
        raise NotImplementedError

    def backward(self, dout):  # pragma: no cover - abstract
        raise NotImplementedError

    # A subclass may define ``_forward(x)`` / ``_backward(dout)``: the same arithmetic
    # without the input checks, for arrays handed over by another nnlib layer. The base
    # versions fall back on the checked methods, so a layer without them still works
    # inside a Sequential.
    def _forward(self, x):
        return self.forward(x)

    def _backward(self, dout):
        return self.backward(dout)

    def __call__(self, x):
        return self.forward(x)

    def zero_grad(self):
        """Set every gradient in ``grads`` to zero, in place."""
        for g in self.grads.values():
            g.fill(0.0)

    def cache_nbytes(self) -> int:
        """Bytes held by the arrays the forward pass stored for backward (Chapter 4, memory)."""
        if self.cache is None:
            return 0
        return sum(a.nbytes for a in self.cache if isinstance(a, np.ndarray))

    def _need_cache(self):
        if self.cache is None:
            raise RuntimeError(
                f"{self!r}.backward was called before forward; run forward(x) first - "
                "backward reads the values the forward pass stored."
            )
        return self.cache

    def _check_dout(self, dout, out_shape):
        dout = as_float_array(dout, "dout")
        if dout.shape != out_shape:
            raise ValueError(
                f"dout has shape {dout.shape} but {self!r} produced an output of shape {out_shape}; "
                "the upstream gradient must have the output's shape. Pass the gradient of the loss "
                "with respect to this layer's output."
            )
        return dout

    def __repr__(self):
        return f"{type(self).__name__}()"


class Linear(Layer):
    r"""Affine layer :math:`z = W x + b` (one sample) or :math:`Z = X W^\top + b` (a batch).

    Parameters ``W`` of shape ``(n_out, n_in)`` (as PyTorch's ``nn.Linear``) and
    ``b`` of shape ``(n_out,)``. For a column input ``x`` of shape ``(n_in, 1)`` the
    bias acts as the column ``b[:, None]``. (With ``n_in = 1`` an input of shape
    ``(1, 1)`` is read as a batch of one sample.)

    Backward (Chapter 3 for one sample, Chapter 4 for a batch), with ``dZ`` the
    upstream gradient :math:`\Delta = \partial L/\partial Z` of shape ``(B, n_out)``:

    .. math:: dW = \Delta^\top X,\qquad db = \textstyle\sum_i \Delta^{(i)},\qquad dX = \Delta\, W

    There is no ``1/B`` here: the loss gradient already carries it (see
    :mod:`nnlib.losses`), so ``dW`` is the sum over the batch of the outer products
    :math:`\Delta^{(i)\top} x^{(i)\top}` of that already-scaled gradient, and all three
    are gradients of the batch-mean loss :math:`L`.
    """

    def __init__(self, n_in, n_out, init="he_normal", bias=0.0, rng=None, dtype=None):
        super().__init__()
        self.n_in = positive_int(n_in, "n_in")
        self.n_out = positive_int(n_out, "n_out")
        dt = resolve_dtype(dtype)
        bias = real_number(bias, "bias", "A bias is a number such as 0.0 or 0.01.")
        W = get_initialiser(init)((self.n_out, self.n_in), rng=rng, dtype=dt)
        self.params = {"W": W, "b": constant((self.n_out,), bias, dtype=dt)}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}

    def __repr__(self):
        return f"Linear({self.n_in}, {self.n_out})"

    def _rows(self, x):
        """Return ``x`` as a batch ``(B, n_in)`` and its form: 'vector', 'column' or 'batch'."""
        n_in = self.n_in
        if x.ndim == 1 and x.shape[0] == n_in:
            return x[None, :], "vector"
        if x.ndim == 2 and x.shape[1] == n_in:
            return x, "batch"
        if x.ndim == 2 and x.shape == (n_in, 1):
            return x.T, "column"
        if x.ndim == 2 and x.shape[0] == n_in:
            raise ValueError(
                f"x has shape {x.shape}: {x.shape[1]} columns, but W has shape {self.params['W'].shape} "
                f"and expects {n_in} features per sample. A batch is (B, {n_in}) with one sample "
                "per row - did you pass x transposed?"
            )
        got = x.shape[-1] if x.ndim else 0
        raise ValueError(
            f"x has shape {x.shape} but W has shape {self.params['W'].shape}: {repr(self)} expects "
            f"{n_in} features (a vector ({n_in},), a column ({n_in}, 1) or a batch (B, {n_in})), "
            f"got {got}. Check the layer sizes."
        )

    def forward(self, x):
        return self._forward(as_float_array(x, "x", dtype=self.params["W"].dtype))

    def _forward(self, x):
        W, b = self.params["W"], self.params["b"]
        if x.dtype != W.dtype:  # a float64 batch into a float32 network, as forward converts it
            x = x.astype(W.dtype)
        X, form = self._rows(x)
        Z = X @ W.T
        Z += b
        self.cache = (X, form)
        return Z.T if form == "column" else (Z[0] if form == "vector" else Z)

    def backward(self, dout, need_dx=True):
        """Fill ``grads`` with ``dW`` and ``db`` and return ``dX`` (``x``'s shape).

        ``need_dx=False`` skips ``dX = dZ W`` and returns ``None``. Training the first
        layer needs only ``dW`` and ``db`` - nothing upstream of the data wants ``dX`` -
        and for a wide input that product is a third of the layer's arithmetic
        (784 inputs: as much work as the forward pass).
        """
        X, form = self._need_cache()
        shape = {"column": (self.n_out, 1), "vector": (self.n_out,)}.get(form, (X.shape[0], self.n_out))
        return self._backward(self._check_dout(dout, shape), need_dx)

    def _backward(self, dout, need_dx=True):
        X, form = self._need_cache()
        B = X.shape[0]
        dZ = dout.T if form == "column" else (dout[None, :] if form == "vector" else dout)
        W = self.params["W"]
        if B == 1:
            # One sample: dW is the outer product delta x^T; an element-wise broadcast is
            # faster than a (n_out x 1)(1 x n_in) matrix product, which skips BLAS.
            np.multiply(dZ.T, X, out=self.grads["W"])
        else:
            np.matmul(dZ.T, X, out=self.grads["W"])
        dZ.sum(axis=0, out=self.grads["b"])  # the method: same sum, fewer Python wrapper layers than np.sum
        if not need_dx:
            return None
        dX = dZ @ W
        return dX.T if form == "column" else (dX[0] if form == "vector" else dX)


class _Elementwise(Layer):
    """An activation applied entry by entry: backward is ``dout * phi'(z)`` (Hadamard product)."""

    keeps_finite = True  # sigmoid, tanh, ReLU, identity: bounded by the input, |phi'| <= 1

    def forward(self, z):
        return self._forward(as_float_array(z, "z"))

    def _forward(self, z):
        a = self._g(z)
        self.cache = (z, a)
        return a

    def backward(self, dout):
        z, _ = self._need_cache()
        return self._backward(self._check_dout(dout, z.shape))

    def _backward(self, dout):
        z, a = self._need_cache()
        return dout * self._g_prime(z, a)


class Sigmoid(_Elementwise):
    r""":math:`a = \sigma(z)`; backward :math:`dz = da \odot a(1 - a)` (reuses the stored output)."""

    def _g(self, z):
        return sigmoid(z)

    def _g_prime(self, z, a):
        return a * (1.0 - a)


class Tanh(_Elementwise):
    r""":math:`a = \tanh z`; backward :math:`dz = da \odot (1 - a^2)`."""

    def _g(self, z):
        return np.tanh(z)

    def _g_prime(self, z, a):
        return 1.0 - a * a


class ReLU(_Elementwise):
    r""":math:`a = \max(0, z)`; backward :math:`dz = da \odot [z > 0]` (0 at the kink)."""

    def _g(self, z):
        return np.maximum(z, 0.0)

    def _g_prime(self, z, a):
        # The boolean mask itself: dout * mask gives dout's dtype, with no 0/1 float copy made first.
        return z > 0


class LeakyReLU(_Elementwise):
    r""":math:`a = z` for :math:`z > 0`, else :math:`\text{slope}\cdot z`; backward uses 1 or ``slope``."""

    def __init__(self, slope=0.01):
        super().__init__()
        self.slope = real_number(slope, "slope", "A leaky slope is a small number such as 0.01.")

    @property
    def keeps_finite(self):
        return abs(self.slope) <= 1  # then slope * z cannot overflow

    def __repr__(self):
        return f"LeakyReLU(slope={self.slope})"

    def _g(self, z):
        return np.where(z > 0, z, self.slope * z)

    def _g_prime(self, z, a):
        return np.where(z > 0, 1.0, self.slope).astype(z.dtype)


class Identity(_Elementwise):
    """:math:`a = z`: a linear output (regression)."""

    def _g(self, z):
        return z

    def _g_prime(self, z, a):
        return np.ones_like(z)


class PReLU(Layer):
    r"""Parametric ReLU (He et al. 2015): :math:`a = z` for :math:`z > 0`, else :math:`\alpha z`.

    The slope :math:`\alpha` is learned: one per feature (``n_features`` given) or one
    shared by all (``n_features=None``). Its gradient sums over the batch:
    :math:`\partial L/\partial\alpha_j = \sum_i dA_{ij}\, z_{ij}\,[z_{ij} \le 0]`.
    """

    def __init__(self, n_features=None, init_slope=0.25, dtype=None):
        super().__init__()
        n = 1 if n_features is None else positive_int(n_features, "n_features")
        self.shared = n_features is None
        init_slope = real_number(init_slope, "init_slope", "A starting slope is a number such as 0.25.")
        self.params = {"alpha": constant((n,), init_slope, dtype=resolve_dtype(dtype))}
        self.grads = {"alpha": np.zeros_like(self.params["alpha"])}

    def __repr__(self):
        return "PReLU()" if self.shared else f"PReLU({self.params['alpha'].shape[0]})"

    def _slope(self, z):
        """Broadcast alpha against z: per feature along the last axis, or along axis 0 for a column."""
        alpha = self.params["alpha"]
        if self.shared:
            return alpha[0]
        if z.ndim == 0:
            raise ValueError(
                f"z must be an array of features, got a single number (shape ()); {self!r} has "
                f"{alpha.shape[0]} slopes. Pass a vector ({alpha.shape[0]},) or a batch (B, {alpha.shape[0]})."
            )
        n = alpha.shape[0]
        if z.ndim == 2 and z.shape == (n, 1) and n != 1:
            return alpha[:, None]
        if z.shape[-1] != n:
            raise ValueError(
                f"z has shape {z.shape} but PReLU has {n} slopes; expected {n} features per sample. "
                "Check the layer sizes."
            )
        return alpha

    def forward(self, z):
        return self._forward(as_float_array(z, "z"))

    def _forward(self, z):
        slope = self._slope(z)
        neg = z <= 0
        self.cache = (z, neg)
        return np.where(neg, slope * z, z)

    def backward(self, dout):
        z, _ = self._need_cache()
        return self._backward(self._check_dout(dout, z.shape))

    def _backward(self, dout):
        z, neg = self._need_cache()
        slope = self._slope(z)
        dalpha = dout * z * neg
        if self.shared:
            self.grads["alpha"][0] = dalpha.sum()
        elif z.ndim == 2 and z.shape == (self.params["alpha"].shape[0], 1):
            self.grads["alpha"][:] = dalpha[:, 0]
        else:
            self.grads["alpha"][:] = dalpha.reshape(-1, z.shape[-1]).sum(axis=0)
        return np.where(neg, slope * dout, dout)


class Softmax(Layer):
    r"""Softmax over the classes of each sample (rows of a batch, or a vector/column).

    Backward is the vector-Jacobian product
    :math:`\hat y\odot(\delta - \langle \delta,\hat y\rangle)` for the upstream gradient
    :math:`\delta = \partial L/\partial \hat y` (``dout``).
    For training, prefer :func:`nnlib.losses.softmax_cross_entropy` on the logits, whose
    combined gradient is simply :math:`(\hat y - y)/B`.
    """

    @staticmethod
    def _axis(z):
        return 0 if (z.ndim == 1 or (z.ndim == 2 and z.shape[1] == 1 and z.shape[0] > 1)) else -1

    def forward(self, z):
        return self._forward(as_float_array(z, "z"))

    def _forward(self, z):
        axis = self._axis(z)
        y_hat = softmax(z, axis=axis)
        self.cache = (y_hat, axis)
        return y_hat

    def backward(self, dout):
        y_hat, axis = self._need_cache()
        return softmax_backward(y_hat, self._check_dout(dout, y_hat.shape), axis=axis)

    def cache_nbytes(self) -> int:
        return 0 if self.cache is None else self.cache[0].nbytes


ACTIVATION_LAYERS = {
    "sigmoid": Sigmoid,
    "tanh": Tanh,
    "relu": ReLU,
    "leaky_relu": LeakyReLU,
    "prelu": PReLU,
    "identity": Identity,
}


class Sequential(Layer):
    """Layers applied in order; backward runs them in reverse, passing ``dout`` back.

    ``params`` and ``grads`` are flat dicts with keys ``"<index>.<name>"`` (e.g.
    ``"0.W"``) holding the *same* arrays as the layers, so an optimiser that updates
    them in place updates the layers.
    """

    def __init__(self, layers):
        super().__init__()
        self.layers = sequence(layers, "layers", "[nnlib.Linear(2, 3), nnlib.ReLU()]")
        for i, layer in enumerate(self.layers):
            if not isinstance(layer, Layer):
                made = " Create the layer first, e.g. ReLU() or Linear(2, 3)." if isinstance(layer, type) else ""
                raise TypeError(
                    f"layers[{i}] must be an nnlib Layer (Linear, ReLU, ...), got {describe(layer)}.{made} "
                    "Use the layer classes of nnlib.layers."
                )
        self.params = {f"{i}.{k}": v for i, l in enumerate(self.layers) for k, v in l.params.items()}
        self.grads = {f"{i}.{k}": v for i, l in enumerate(self.layers) for k, v in l.grads.items()}

    def __repr__(self):
        return "Sequential(" + ", ".join(repr(l) for l in self.layers) + ")"

    def __getitem__(self, i):
        return self.layers[i]

    def __len__(self):
        return len(self.layers)

    def forward(self, x):
        """Run the layers in order. ``x`` is checked by the first layer; what one layer
        hands to the next is not checked again (see the module docstring)."""
        return self._run_forward(x, trusted=False)

    def _forward(self, x):
        return self._run_forward(x, trusted=True)

    def _run_forward(self, x, trusted):
        out = x
        last = len(self.layers) - 1
        for i, layer in enumerate(self.layers):
            # Only nnlib's own layer classes are called unchecked, and only on what another
            # of them produced: a subclass's forward (or a layer from elsewhere) always runs.
            own = type(layer).__module__ == __name__
            out = layer._forward(out) if own and trusted else layer.forward(out)
            trusted = own
            if i < last and own and not layer.keeps_finite and not all_finite(out):
                # NaN or inf (an overflow) would reach the next layer: run the layers again
                # with all their checks, which raise the error a checked call raises.
                return self._checked_forward(x)
        return out

    def _checked_forward(self, x):
        """``forward`` with every layer checking its own input (each a public ``forward`` call).

        Same result as ``forward``, bit for bit; slower, since each array is tested again
        by the layer that receives it. ``forward`` falls back on it to report an overflow.
        """
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, dout, need_dx=True):
        """Run the layers' ``backward`` in reverse order and return ``dX``, the input's gradient.

        With ``need_dx=False`` (what :func:`nnlib.train.train_step` uses) a first
        ``Linear`` layer skips computing ``dX``, which training never reads, and
        ``None`` is returned; every parameter gradient is filled as usual. ``dout`` is
        checked by the last layer; the gradients the layers hand back are not checked
        again, as in ``forward``.
        """
        return self._run_backward(dout, need_dx, trusted=False)

    def _backward(self, dout, need_dx=True):
        return self._run_backward(dout, need_dx, trusted=True)

    def _run_backward(self, dout, need_dx, trusted):
        d = dout
        for i in range(len(self.layers) - 1, -1, -1):
            layer = self.layers[i]
            own = type(layer).__module__ == __name__
            checked = not (own and trusted)
            if i == 0 and not need_dx and isinstance(layer, Linear | Sequential):
                return layer.backward(d, need_dx=False) if checked else layer._backward(d, need_dx=False)
            d = layer.backward(d) if checked else layer._backward(d)
            trusted = own
            if i and own and not layer.keeps_finite and not all_finite(d):
                return self._checked_backward(dout, need_dx)  # raises as a layer-by-layer check does
        return d if need_dx else None

    def _checked_backward(self, dout, need_dx=True):
        """``backward`` with every layer checking the gradient it receives (public ``backward`` calls)."""
        for i in reversed(range(len(self.layers))):
            layer = self.layers[i]
            if i == 0 and not need_dx and isinstance(layer, Linear | Sequential):
                return layer.backward(dout, need_dx=False)
            dout = layer.backward(dout)
        return dout if need_dx else None

    def zero_grad(self):
        for layer in self.layers:
            layer.zero_grad()

    def cache_nbytes(self) -> int:
        return sum(layer.cache_nbytes() for layer in self.layers)

    def predict(self, X):
        """Class predictions: the index of the largest output of each sample."""
        scores = self.forward(X)
        return scores.argmax(axis=-1) if scores.ndim == 2 and scores.shape[1] > 1 else scores


def mlp(sizes, activation="relu", init=None, rng=None, dtype=None, bias=0.0):
    """Build a multilayer perceptron ``Linear -> activation -> ... -> Linear`` (logits out).

    ``sizes = [n_0, n_1, ..., n_D]``: input size, hidden sizes, number of outputs. The
    last layer has no activation: pair it with a loss that takes logits. ``init``
    defaults to He normal for the ReLU family and Xavier normal for sigmoid/tanh.
    """
    sizes = [positive_int(n, f"sizes[{i}]") for i, n in enumerate(sequence(sizes, "sizes", "[2, 16, 3]"))]
    if len(sizes) < 2:
        raise ValueError(
            f"sizes must list at least an input and an output size, got {sizes}. Pass e.g. [2, 16, 3]."
        )
    check_activation(activation, ACTIVATION_LAYERS)
    if init is None:
        init = "xavier_normal" if activation in ("sigmoid", "tanh", "identity") else "he_normal"
    rng = get_rng(rng)
    layers: list[Layer] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(Linear(n_in, n_out, init=init, bias=bias, rng=rng, dtype=dtype))
        if i < len(sizes) - 2:
            act = ACTIVATION_LAYERS[activation]
            layers.append(act(n_out, dtype=dtype) if activation == "prelu" else act())
    return Sequential(layers)
