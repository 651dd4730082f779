r"""Backpropagation for one sample, written out by hand (Chapter 3).

Chapter 3 derives every formula in this module; Chapter 4 batches them and checks the
batched gradients against the per-sample functions here.

Conventions (Chapter 3 only):

* A sample ``x`` is a **column vector** of shape ``(n_0, 1)``; a 1-D ``(n_0,)`` is
  accepted and turned into a column.
* Parameters live in a dict ``params`` with keys ``"W1", "b1", "W2", "b2", ...``
  (layer ``l`` maps layer ``l-1`` to layer ``l``, for ``l = 1, ..., D``). ``W<l>`` has
  shape ``(n_l, n_{l-1})`` - the same as :class:`nnlib.Linear`'s ``W`` - and ``b<l>``
  is a **column** ``(n_l, 1)``. :class:`nnlib.Linear` stores its bias as a vector
  ``(n_l,)``; :func:`to_sequential` and :func:`from_sequential` convert (``b[:, None]``
  and ``b[:, 0]``).
* Targets ``y`` are a class index ``c`` (an int) or a one-hot column ``(K, 1)``.
* Gradients come in a dict with the same keys and shapes as ``params``.

The two-layer classifier of the chapter (its forward cache, returned by :func:`forward`,
is the dict ``{"x", "z1", "a1", "z2", "y_hat"}``, every entry a column):

.. math::
    \begin{aligned}
    z_1 &= W_1 x + b_1, & a_1 &= \sigma(z_1), & z_2 &= W_2 a_1 + b_2,\\
    \hat y &= \operatorname{softmax}(z_2), & L &= -\textstyle\sum_k y_k \log \hat y_k
    \end{aligned}

and its backward pass (note the sign: :math:`\hat y - y`, prediction minus target):

.. math::
    \begin{aligned}
    \delta_2 &= \frac{\partial L}{\partial z_2} = \hat y - y, &
    \frac{\partial L}{\partial W_2} &= \delta_2 a_1^\top, &
    \frac{\partial L}{\partial b_2} &= \delta_2,\\
    \frac{\partial L}{\partial a_1} &= W_2^\top \delta_2, &
    \delta_1 &= \frac{\partial L}{\partial a_1}\odot a_1\odot(1 - a_1), & &\\
    \frac{\partial L}{\partial W_1} &= \delta_1 x^\top, &
    \frac{\partial L}{\partial b_1} &= \delta_1 & &
    \end{aligned}

The general recursion for ``D`` layers (:func:`deep_forward`, :func:`deep_backward`),
with :math:`a_0 = x`, :math:`z_l = W_l a_{l-1} + b_l`, :math:`a_l = \phi(z_l)`, uses the
four equations

.. math::
    \begin{aligned}
    &\text{BP1: } \delta_D = \nabla_{a_D} L \odot \phi'(z_D), &
    &\text{BP2: } \delta_l = (W_{l+1}^\top \delta_{l+1}) \odot \phi'(z_l),\\
    &\text{BP3: } \frac{\partial L}{\partial b_l} = \delta_l, &
    &\text{BP4: } \frac{\partial L}{\partial W_l} = \delta_l a_{l-1}^\top
    \end{aligned}

(for a softmax output with cross-entropy, BP1 is :math:`\delta_D = \hat y - y`).
With an L2 penalty :math:`\tilde L = L + \frac{\lambda}{2}\sum_l \lVert W_l\rVert_F^2` every
weight gradient gains :math:`\lambda W_l` (biases are not penalised).
"""

from __future__ import annotations

import numpy as np

from ._validate import (
    as_float_array,
    check_activation,
    describe,
    get_rng,
    instance,
    non_negative_number,
    positive_int,
    positive_number,
    sequence,
)
from .activations import ACTIVATIONS, sigmoid, softmax

__all__ = [
    "init_params",
    "as_column",
    "one_hot_column",
    "forward",
    "loss",
    "backward",
    "loss_and_grads",
    "l2_penalty",
    "BACKWARD_READS",
    "RecordingCache",
    "deep_forward",
    "deep_loss",
    "deep_backward",
    "deep_loss_and_grads",
    "to_sequential",
    "from_sequential",
    "n_layers",
    "value_network",
    "referees",
]


# --------------------------------------------------------------------------- inputs
def as_column(x, name="x", n=None):
    """Return ``x`` as a float column ``(n, 1)``; a 1-D ``(n,)`` becomes a column.

    Raises a ``ValueError`` naming ``name`` for a row ``(1, n)``, a batch, or the
    wrong length ``n``.
    """
    x = as_float_array(x, name)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2 or x.shape[1] != 1:
        raise ValueError(
            f"{name} must be one sample as a column vector (n, 1) or a vector (n,), got shape {x.shape}. "
            "Chapter 3 works with one sample at a time; for a batch (B, n) see Chapter 4."
        )
    if n is not None and x.shape[0] != n:
        raise ValueError(f"{name} has {x.shape[0]} entries but the network expects {n}; check the layer sizes.")
    return x


def one_hot_column(y, K):
    """Return the target as a one-hot column ``(K, 1)``: from a class index or a one-hot column/vector."""
    K = positive_int(K, "K")
    if isinstance(y, int | np.integer) and not isinstance(y, bool):
        if not 0 <= int(y) < K:
            raise ValueError(
                f"y must be a class index in [0, {K - 1}] for {K} classes, got {int(y)}. "
                "Pass the index of the true class, e.g. 0."
            )
        col = np.zeros((K, 1))
        col[int(y), 0] = 1.0
        return col
    arr = as_column(y, "y")
    if arr.shape[0] != K:
        raise ValueError(f"y has {arr.shape[0]} entries but the network has {K} outputs; pass a one-hot column (K, 1).")
    if not (np.all((arr == 0) | (arr == 1)) and arr.sum() == 1):
        raise ValueError("y must be one-hot (a single 1, the rest 0) or a class index (an int).")
    return arr


def n_layers(params):
    """Number of weight layers ``D`` (the depth) in ``params`` (keys ``W1..WD``, ``b1..bD``)."""
    if not isinstance(params, dict) or "W1" not in params:
        raise TypeError(
            f"params must be a dict with keys 'W1', 'b1', 'W2', 'b2', ..., got {describe(params)}. "
            "Make one with init_params()."
        )
    D = 0
    while f"W{D + 1}" in params:
        D += 1
    for l in range(1, D + 1):
        W, b = params[f"W{l}"], params.get(f"b{l}")
        if b is None:
            raise ValueError(f"params has W{l} but no b{l}; expected a bias for every layer. Add b{l} (n_out, 1).")
        as_float_array(W, f"W{l}")
        as_float_array(b, f"b{l}")
        if np.ndim(W) != 2 or np.shape(b) != (np.shape(W)[0], 1):
            raise ValueError(
                f"W{l} must be (n_out, n_in) and b{l} a column (n_out, 1); got W{l} {np.shape(W)} and "
                f"b{l} {np.shape(b)}. (nnlib.Linear keeps b as (n_out,): use b[:, None].)"
            )
        if l > 1 and np.shape(W)[1] != np.shape(params[f"W{l - 1}"])[0]:
            raise ValueError(
                f"W{l} has shape {np.shape(W)} but W{l - 1} has {np.shape(params[f'W{l - 1}'])[0]} outputs; "
                f"W{l} needs {np.shape(params[f'W{l - 1}'])[0]} columns."
            )
    return D


def init_params(sizes=(2, 3, 2), rng=None, scale=1.0):
    """Random parameters for layer sizes ``[n_0, n_1, ..., n_D]`` (default: the chapter's 2-3-2 network).

    ``W<l>`` ~ normal with standard deviation ``scale / sqrt(n_{l-1})``, shape ``(n_l, n_{l-1})``;
    ``b<l>`` ~ normal with standard deviation ``0.1 * scale``, a column ``(n_l, 1)`` (small but
    non-zero, so that a gradient check also tests the bias gradients).
    """
    sizes = [positive_int(n, f"sizes[{i}]") for i, n in enumerate(sequence(sizes, "sizes", "(2, 3, 2)"))]
    if len(sizes) < 2:
        raise ValueError(f"sizes must list at least two positive layer sizes, got {sizes}. Pass e.g. (2, 3, 2).")
    scale = positive_number(scale, "scale", "Use 1.0 for the default spread.")
    rng = get_rng(rng)
    params = {}
    for l in range(1, len(sizes)):
        params[f"W{l}"] = rng.normal(0.0, scale / np.sqrt(sizes[l - 1]), (sizes[l], sizes[l - 1]))
        params[f"b{l}"] = rng.normal(0.0, 0.1 * scale, (sizes[l], 1))
    return params


# ------------------------------------------------------------- two-layer classifier
def forward(params, x):
    r"""Forward pass of the two-layer classifier for one sample; returns the cache dict.

    ``x``: column ``(n_0, 1)``. Returns the cache ``{"x", "z1", "a1", "z2", "y_hat"}``
    (all columns) with :math:`z_1 = W_1 x + b_1` ``(n_1, 1)``, :math:`a_1 = \sigma(z_1)`
    ``(n_1, 1)``, :math:`z_2 = W_2 a_1 + b_2` ``(K, 1)`` and
    :math:`\hat y = \operatorname{softmax}(z_2)` ``(K, 1)``; ``"x"`` is the input as a column.
    """
    if n_layers(params) != 2:
        raise ValueError("forward is the two-layer network (W1, b1, W2, b2); use deep_forward for other depths.")
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    x = as_column(x, "x", n=W1.shape[1])
    z1 = W1 @ x + b1
    a1 = sigmoid(z1)
    z2 = W2 @ a1 + b2
    y_hat = softmax(z2, axis=0)
    return {"x": x, "z1": z1, "a1": a1, "z2": z2, "y_hat": y_hat}


def l2_penalty(params, lam):
    r""":math:`s = \frac{\lambda}{2}\sum_l \lVert W_l\rVert_F^2` over every weight matrix (biases excluded)."""
    lam = non_negative_number(lam, "lam", "Use 0 for no penalty or a small value such as 1e-3.")
    return 0.5 * lam * sum(float(np.sum(params[f"W{l}"] ** 2)) for l in range(1, n_layers(params) + 1))


def loss(cache, y, params=None, lam=0.0):
    r"""Cross-entropy :math:`L = -\sum_k y_k\log\hat y_k` of a forward cache.

    With ``lam > 0`` it returns the regularised objective :math:`\tilde L = L + s`.

    Computed from the logits ``z2`` (stable): :math:`-\log\hat y_c = \log\sum_j e^{(z_2)_j} - (z_2)_c`.
    ``params`` is needed only for the penalty.
    """
    z2 = cache["z2"]
    lam = non_negative_number(lam, "lam", "Use 0 for no penalty or a small value such as 1e-3.")
    y = one_hot_column(y, z2.shape[0])
    m = z2.max()
    log_y_hat = z2 - m - np.log(np.sum(np.exp(z2 - m)))
    L = -float(np.sum(y * log_y_hat))
    if lam:
        if params is None:
            raise ValueError("lam > 0 needs params to compute the penalty: loss(cache, y, params, lam).")
        L += l2_penalty(params, lam)
    return L


#: The cache entries the two-layer backward pass reads: ``z1`` and ``z2`` are not needed,
#: because sigma'(z1) = a1 (1 - a1) and dL/dz2 = y_hat - y use the stored outputs.
BACKWARD_READS = ("x", "a1", "y_hat")


def backward(params, cache, y, lam=0.0, return_deltas=False):
    r"""Backward pass of the two-layer classifier for one sample.

    ``cache`` is :func:`forward`'s dict; only ``cache["x"]``, ``cache["a1"]`` and
    ``cache["y_hat"]`` are read (see :data:`BACKWARD_READS`). Returns
    ``grads = {"W1", "b1", "W2", "b2"}`` with the shapes of ``params``; with ``lam > 0``
    the weight gradients include :math:`\lambda W`. With ``return_deltas=True`` returns
    ``(grads, deltas)`` where ``deltas`` holds ``"delta2"`` :math:`=\partial L/\partial z_2`,
    ``"da1"`` :math:`=\partial L/\partial a_1` and ``"delta1"`` :math:`=\partial L/\partial z_1`
    (all columns).
    """
    W2 = params["W2"]
    lam = non_negative_number(lam, "lam", "Use 0 for no penalty or a small value such as 1e-3.")
    x, a1, y_hat = cache["x"], cache["a1"], cache["y_hat"]
    y = one_hot_column(y, y_hat.shape[0])
    delta2 = y_hat - y  # dL/dz2: prediction minus target (y - y_hat is the NEGATIVE gradient)
    dW2 = delta2 @ a1.T  # (K, 1)(1, n1) -> W2's shape
    db2 = delta2
    da1 = W2.T @ delta2  # pass dL/da1 back; no need to re-expand the chain
    delta1 = da1 * a1 * (1.0 - a1)  # Hadamard product with sigma'(z1)
    dW1 = delta1 @ x.T
    db1 = delta1
    if lam:
        dW1 = dW1 + lam * params["W1"]
        dW2 = dW2 + lam * W2
    grads = {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}
    if return_deltas:
        return grads, {"delta2": delta2, "da1": da1, "delta1": delta1}
    return grads


def loss_and_grads(params, x, y, lam=0.0):
    """Forward then backward for one sample: returns ``(L_reg, grads)`` (``L_reg = L`` when ``lam == 0``)."""
    cache = forward(params, x)
    return loss(cache, y, params, lam), backward(params, cache, y, lam)


class RecordingCache(dict):
    """A dict that records which keys were read (``.reads``), to show what backward uses from the cache."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.reads: list[str] = []

    def __getitem__(self, key):
        if key not in self.reads:
            self.reads.append(key)
        return super().__getitem__(key)


# ------------------------------------------------------------------- any depth
def _activation(name):
    check_activation(name, ACTIVATIONS)
    return ACTIVATIONS[name]


def deep_forward(params, x, activation="sigmoid", output="softmax"):
    r"""Forward pass of a ``D``-layer network for one sample, keeping every :math:`z_l` and :math:`a_l`.

    :math:`a_0 = x`, :math:`z_l = W_l a_{l-1} + b_l`, :math:`a_l = \phi(z_l)` for hidden layers
    (:math:`\phi` = ``activation``); the output is :math:`a_D = \operatorname{softmax}(z_D)`
    (``output="softmax"``, paired with cross-entropy) or :math:`a_D = \phi(z_D)`
    (``output="activation"``, paired with the squared error :math:`\frac12\lVert a_D - y\rVert^2`).
    Returns ``{"z": [None, z1..zD], "a": [x, a1..aD], "activation", "output"}`` (lists
    indexed by layer, so ``cache["z"][l]`` is :math:`z_l`, a column ``(n_l, 1)``).
    """
    if output not in ("softmax", "activation"):
        raise ValueError(f"output must be 'softmax' or 'activation', got {output!r}.")
    phi, _ = _activation(activation)
    D = n_layers(params)
    a = as_column(x, "x", n=params["W1"].shape[1])
    zs, acts = [None], [a]
    for l in range(1, D + 1):
        z = params[f"W{l}"] @ a + params[f"b{l}"]
        a = softmax(z, axis=0) if (l == D and output == "softmax") else phi(z)
        zs.append(z)
        acts.append(a)
    return {"z": zs, "a": acts, "activation": activation, "output": output}


def deep_loss(cache, y):
    r"""Loss of a :func:`deep_forward` cache.

    Cross-entropy for a softmax output, else the squared error :math:`\frac12\lVert a_D - y\rVert^2`.

    The squared error keeps the factor 1/2 so that its gradient is :math:`a_D - y` (the same
    convention as :func:`nnlib.losses.mse`); BP1 below assumes it.
    """
    a_L = cache["a"][-1]
    if cache["output"] == "softmax":
        z = cache["z"][-1]
        y = one_hot_column(y, z.shape[0])
        m = z.max()
        return -float(np.sum(y * (z - m - np.log(np.sum(np.exp(z - m))))))
    y = as_column(y, "y", n=a_L.shape[0])
    return 0.5 * float(np.sum((a_L - y) ** 2))


def deep_backward(params, cache, y, lam=0.0, return_deltas=False):
    r"""The four backpropagation equations for any depth ``D``, one sample.

    BP1 :math:`\delta_D = (a_D - y)\odot \phi'(z_D)` for the squared error, or
    :math:`\delta_D = \hat y - y` for softmax + cross-entropy;
    BP2 :math:`\delta_l = (W_{l+1}^\top\delta_{l+1})\odot \phi'(z_l)`;
    BP3 :math:`\partial L/\partial b_l = \delta_l`;
    BP4 :math:`\partial L/\partial W_l = \delta_l a_{l-1}^\top` (+ :math:`\lambda W_l` when ``lam > 0``).
    ``cache`` is :func:`deep_forward`'s dict. Returns ``grads`` (keys ``W1..WD``,
    ``b1..bD``), or ``(grads, deltas)`` with ``deltas[l]`` :math:`=\delta_l` (``deltas[0]``
    is None) when ``return_deltas``.
    """
    _, phi_prime = _activation(cache["activation"])
    lam = non_negative_number(lam, "lam", "Use 0 for no penalty or a small value such as 1e-3.")
    zs, acts = cache["z"], cache["a"]
    D = len(zs) - 1
    if cache["output"] == "softmax":
        delta = acts[D] - one_hot_column(y, acts[D].shape[0])  # BP1, softmax + cross-entropy
    else:
        y = as_column(y, "y", n=acts[D].shape[0])
        delta = (acts[D] - y) * phi_prime(zs[D])  # BP1
    deltas = [None] * (D + 1)
    deltas[D] = delta
    for l in range(D - 1, 0, -1):
        deltas[l] = (params[f"W{l + 1}"].T @ deltas[l + 1]) * phi_prime(zs[l])  # BP2
    grads = {}
    for l in range(1, D + 1):
        grads[f"W{l}"] = deltas[l] @ acts[l - 1].T + (lam * params[f"W{l}"] if lam else 0.0)  # BP4
        grads[f"b{l}"] = deltas[l].copy()  # BP3
    return (grads, deltas) if return_deltas else grads


def deep_loss_and_grads(params, x, y, activation="sigmoid", output="softmax", lam=0.0):
    r"""Forward then backward for any depth: ``(L_reg, grads)``.

    ``L_reg`` is the objective :math:`\tilde L`, including the L2 penalty if ``lam > 0``.
    """
    lam = non_negative_number(lam, "lam", "Use 0 for no penalty or a small value such as 1e-3.")
    cache = deep_forward(params, x, activation, output)
    J = deep_loss(cache, y) + (l2_penalty(params, lam) if lam else 0.0)
    return J, deep_backward(params, cache, y, lam)


# ------------------------------------------------------ bridge to nnlib layers
def to_sequential(params, activation="sigmoid"):
    """Build an :func:`nnlib.mlp` holding copies of ``params`` (``b<l>`` column -> ``Linear``'s ``b`` vector).

    The model outputs logits; pair it with :func:`nnlib.softmax_cross_entropy`. Its flat
    parameter names are ``"0.W", "0.b", "2.W", ...`` (every other layer is an activation).
    """
    from .layers import mlp

    D = n_layers(params)
    sizes = [params["W1"].shape[1]] + [params[f"W{l}"].shape[0] for l in range(1, D + 1)]
    model = mlp(sizes, activation=activation)
    for l in range(1, D + 1):
        layer = model.layers[2 * (l - 1)]
        layer.params["W"][...] = params[f"W{l}"]
        layer.params["b"][...] = params[f"b{l}"][:, 0]
    return model


def from_sequential(model):
    """Read a model's ``Linear`` layers (or its gradients) into Chapter 3's dict form, biases as columns.

    Returns ``(params, grads)``, both with keys ``W1, b1, ...``.
    """
    from .layers import Linear

    instance(model, "model", ("layers",), "nnlib.mlp([2, 3, 2])")
    params, grads = {}, {}
    linears = [layer for layer in model.layers if isinstance(layer, Linear)]
    for l, layer in enumerate(linears, start=1):
        params[f"W{l}"] = layer.params["W"].copy()
        params[f"b{l}"] = layer.params["b"][:, None].copy()
        grads[f"W{l}"] = layer.grads["W"].copy()
        grads[f"b{l}"] = layer.grads["b"][:, None].copy()
    return params, grads


# ------------------------------------------- the referees of Chapter 3's derivation
def value_network(params, x, y):
    """The two-layer network built from Chapter 2's scalar ``Value`` nodes, after ``backward()``.

    Every weight, bias and intermediate is its own :class:`nnlib.engine.Value`, so the
    engine knows nothing about matrices. ``y`` is a class index. Returns
    ``(L, V, nodes)``: the loss node, ``V[name]`` (a list of rows of Values for each
    parameter) and ``nodes`` with the lists ``"z1"``, ``"a1"`` and ``"z2"``.
    """
    from .engine import Value

    n_layers(params)
    c = int(np.argmax(one_hot_column(y, params["W2"].shape[0])))
    V = {k: [[Value(float(v)) for v in row] for row in P] for k, P in params.items()}
    xs = [float(v) for v in as_column(x, "x", n=params["W1"].shape[1])[:, 0]]
    n1, K = params["W1"].shape[0], params["W2"].shape[0]
    z1 = [sum((V["W1"][j][i] * xs[i] for i in range(len(xs))), V["b1"][j][0]) for j in range(n1)]
    a1 = [z.sigmoid() for z in z1]
    z2 = [sum((V["W2"][k][j] * a1[j] for j in range(n1)), V["b2"][k][0]) for k in range(K)]
    m = max(z.data for z in z2)  # a constant shift for stability; it cancels in the softmax
    exps = [(z - m).exp() for z in z2]
    L = -((z2[c] - m) - sum(exps[1:], exps[0]).log())  # -log y_hat_c
    L.backward()
    return L, V, {"z1": z1, "a1": a1, "z2": z2}


def _value_grads(nodes):
    """Gradients held by a list (a column) or a list of rows (a matrix) of Values, as an array."""
    if isinstance(nodes[0], list):
        return np.array([[v.grad for v in row] for row in nodes])
    return np.array([[v.grad] for v in nodes])


def referees(params, x, y):
    r"""Three independent references for every quantity of the two-layer backward pass.

    Chapter 3 derives :math:`\partial L/\partial q` for
    :math:`q = z_2, W_2, b_2, a_1, z_1, W_1, b_1` one step at a time and compares each
    result with:

    * ``"central differences"`` of the loss, with ``q`` as the variable and everything
      upstream of it fixed (:func:`nnlib.gradcheck.numerical_gradient`);
    * ``"Value engine"``: the network built from scalar Values (:func:`value_network`);
    * nnlib's layers (:func:`to_sequential`: ``Linear``, ``Sigmoid``, ``Linear``, then
      :func:`nnlib.softmax_cross_entropy`), named after the layer whose ``backward``
      returns the gradient, e.g. ``"nnlib Linear"`` or ``"nnlib Sigmoid.backward"``.

    Returns a dict: ``refs[q]`` maps each referee's name to its gradient (the shape of
    ``q``), and ``refs["L"]`` maps ``"Value engine"`` and ``"nnlib layers"`` to the loss
    each of them computes.
    """
    from .gradcheck import numerical_gradient
    from .losses import softmax_cross_entropy

    n_layers(params)
    W2, b2 = params["W2"], params["b2"]
    x = as_column(x, "x", n=params["W1"].shape[1])
    y_hot = one_hot_column(y, W2.shape[0])
    c = int(np.argmax(y_hot))
    cache = forward(params, x)

    def from_z2(z2):
        return loss({"z2": z2}, y_hot)

    def from_a1(a1):
        return from_z2(W2 @ a1 + b2)

    def from_z1(z1):
        return from_a1(sigmoid(z1))

    def from_params(_):
        return loss(forward(params, x), y_hot)

    central = {
        "z2": numerical_gradient(from_z2, cache["z2"].copy()),
        "a1": numerical_gradient(from_a1, cache["a1"].copy()),
        "z1": numerical_gradient(from_z1, cache["z1"].copy()),
    }
    for name in ("W2", "b2", "W1", "b1"):
        central[name] = numerical_gradient(from_params, params[name])

    L_engine, V, nodes = value_network(params, x, c)
    engine = {name: _value_grads(nodes[name]) for name in ("z2", "a1", "z1")}
    engine.update({name: _value_grads(V[name]) for name in ("W2", "b2", "W1", "b1")})

    model = to_sequential(params, activation="sigmoid")  # Linear, Sigmoid, Linear
    L_layers, dlogits = softmax_cross_entropy(model.forward(x), [c])
    da1 = model[2].backward(dlogits)  # each layer returns the gradient for the one before
    delta1 = model[1].backward(da1)
    model[0].backward(delta1)
    _, grads = from_sequential(model)  # biases back as columns
    layers = {
        "z2": ("nnlib softmax_cross_entropy", dlogits),
        "a1": ("nnlib Linear.backward", da1),
        "z1": ("nnlib Sigmoid.backward", delta1),
    }
    layers.update({name: ("nnlib Linear", grads[name]) for name in ("W2", "b2", "W1", "b1")})

    refs = {"L": {"Value engine": float(L_engine.data), "nnlib layers": float(L_layers)}}
    for name in ("z2", "W2", "b2", "a1", "z1", "W1", "b1"):
        who, grad = layers[name]
        refs[name] = {"central differences": central[name], "Value engine": engine[name], who: grad}
    return refs
