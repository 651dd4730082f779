r"""Optimisers with one interface (Chapter 1): ``opt.step(params, grads)``.

``params`` and ``grads`` are dicts name -> array with equal keys and shapes (a model's
``params``/``grads``, or ``{"x": x}`` for a function being minimised). ``step``
updates every parameter **in place** and keeps any state per name. With
:math:`\nabla` the gradient (``grads[name]``, called ``g`` in the code), each optimiser
is gradient descent :math:`\theta \leftarrow \theta - \alpha \nabla` with a smarter step:

=============  ==============================  =============================================
optimiser      state kept per parameter         update
=============  ==============================  =============================================
``SGD``        none                            :math:`\theta -= \alpha \nabla`
``Momentum``   velocity :math:`m` (array v)     :math:`m = \beta m + \nabla;\ \theta -= \alpha m`
``AdaGrad``    sum of squares :math:`G`         :math:`G += \nabla^2;\ \theta -= \alpha \nabla/(\sqrt G+\epsilon)`
``RMSProp``    running mean :math:`G` of        :math:`G = \beta G + (1-\beta) \nabla^2`, then as AdaGrad
               :math:`\nabla^2`
``Adam``       moments :math:`m, v`, step t     bias-corrected :math:`\hat m/(\sqrt{\hat v}+\epsilon)`
=============  ==============================  =============================================
"""

from __future__ import annotations

import numpy as np

from ._validate import NonFiniteError, all_finite, describe, positive_number, unit_interval


class Optimizer:
    """Base class: checks the arguments of ``step`` and keeps per-parameter state."""

    def __init__(self, lr):
        self.lr = positive_number(lr, "lr", "A learning rate must be positive, e.g. 0.1 or 0.01.")
        self.state: dict[str, dict[str, np.ndarray]] = {}
        self.t = 0
        # Work arrays for the update arithmetic, kept between steps so that a step
        # allocates nothing; they hold no information (not part of ``state``).
        self._work: dict[str, list[np.ndarray]] = {}

    def __repr__(self):
        return f"{type(self).__name__}(lr={self.lr})"

    def reset(self):
        """Forget all state (velocities, moment estimates, step count)."""
        self.state.clear()
        self._work.clear()
        self.t = 0

    def step(self, params, grads):
        """Update every array in ``params`` in place using ``grads`` (same keys and shapes)."""
        if not isinstance(params, dict) or not isinstance(grads, dict):
            raise TypeError(
                f"params and grads must be dicts name -> array, got {describe(params)} and {describe(grads)}. "
                "Pass model.params and model.grads."
            )
        if params.keys() != grads.keys():
            missing = sorted(set(params) ^ set(grads), key=str)
            raise ValueError(
                f"params and grads must have the same keys, got keys that differ: {missing}. "
                "Pass the params and grads of the same model."
            )
        self.t += 1
        for name, p in params.items():
            g = grads[name]
            if not isinstance(p, np.ndarray) or p.dtype.kind != "f":  # kind "f": a floating dtype
                raise TypeError(
                    f"params[{name!r}] must be a float numpy array (updated in place), got "
                    f"{type(p).__name__}. Wrap a number as np.array([x], dtype=float)."
                )
            if np.shape(g) != p.shape:
                raise ValueError(
                    f"grads[{name!r}] has shape {np.shape(g)} but params[{name!r}] has shape {p.shape}; "
                    "a gradient must have its parameter's shape - is one of them transposed?"
                )
            if type(g) is not np.ndarray or g.dtype != p.dtype:  # lists, or another float width
                g = _as_gradient(g, name, p.dtype)
            _check_finite(p, g, name)
            self._update(name, p, g)

    def _step_trusted(self, params, grads):
        """``step`` for a model's own ``params`` and ``grads`` (nnlib's ``Linear`` layers).

        Those dicts have equal keys, and each gradient is a float array of its parameter's
        shape and dtype, so only the test that can fail is kept: NaN or inf in a gradient,
        refused before anything is written, with ``step``'s message. The parameters need
        no test here: a NaN or inf in a ``Linear`` layer's weights or bias makes that
        layer's output non-finite, which the forward pass of the same step has reported.
        """
        self.t += 1
        for name, p in params.items():
            g = grads[name]
            if not all_finite(g):
                _check_finite(p, g, name)
            self._update(name, p, g)

    def _slot(self, name, key, like):
        slots = self.state.setdefault(name, {})
        if key not in slots:
            slots[key] = np.zeros_like(like)
        return slots[key]

    def _buffers(self, name, like, count):
        """``count`` scratch arrays shaped and typed like ``like``, reused from step to step."""
        work = self._work.get(name)
        if work is None or len(work) < count or work[0].shape != like.shape or work[0].dtype != like.dtype:
            work = self._work[name] = [np.empty_like(like) for _ in range(count)]
        return work[:count]

    def _update(self, name, p, g):  # pragma: no cover - abstract
        raise NotImplementedError


def _as_gradient(g, name, dtype):
    try:
        return np.asarray(g, dtype=dtype)
    except (TypeError, ValueError):
        raise TypeError(
            f"grads[{name!r}] must be numeric, got {describe(g)}. Pass the array backward() filled in."
        ) from None


def _check_finite(p, g, name):
    """Refuse NaN or inf before they are written into a parameter (checked by one sum each)."""
    for what, arr in (("grads", g), ("params", p)):
        if not all_finite(arr):
            raise NonFiniteError(
                f"{what}[{name!r}] contains NaN or inf; an optimiser step needs finite values and would "
                "spread them into the weights. If this came from training, the learning rate "
                "is probably too large - try a smaller one; otherwise check the gradient computation."
            )


class SGD(Optimizer):
    r"""Plain gradient descent :math:`\theta \leftarrow \theta - \alpha \nabla` (:math:`\nabla` = ``grads[name]``)."""

    def _update(self, name, p, g):
        # p -= lr * g, with the product written into a kept buffer instead of a new array.
        (step,) = self._buffers(name, p, 1)
        np.multiply(g, self.lr, out=step)
        p -= step


class Momentum(Optimizer):
    r"""Heavy-ball momentum (Polyak 1964).

    :math:`m \leftarrow \beta m + \nabla`, then :math:`\theta \leftarrow \theta - \alpha m`,
    with :math:`\nabla` the gradient.

    The velocity :math:`m` (kept in ``state[name]["v"]``) is a running sum of past
    gradients: steps along a valley floor add up, steps across it cancel.
    """

    def __init__(self, lr, beta=0.9):
        super().__init__(lr)
        self.beta = unit_interval(beta, "beta")

    def _update(self, name, p, g):
        v = self._slot(name, "v", p)
        v *= self.beta
        v += g
        (step,) = self._buffers(name, p, 1)
        np.multiply(v, self.lr, out=step)  # p -= lr * v, without a temporary array
        p -= step


class AdaGrad(Optimizer):
    r"""AdaGrad (Duchi et al. 2011): per-coordinate steps :math:`\alpha \nabla / (\sqrt{G} + \epsilon)`.

    :math:`G = \sum_t \nabla_t^2`, the sum of the squared gradients :math:`\nabla_t` of all
    steps so far, grows forever, so steps only shrink: good for sparse
    gradients, too timid for long non-convex training.
    """

    def __init__(self, lr, eps=1e-8):
        super().__init__(lr)
        self.eps = positive_number(eps, "eps")

    def _update(self, name, p, g):
        G = self._slot(name, "G", p)
        step, denom = self._buffers(name, p, 2)
        # G += g^2; p -= (lr g) / (sqrt(G) + eps), each operation writing into a kept buffer.
        np.multiply(g, g, out=step)
        G += step
        np.sqrt(G, out=denom)
        denom += self.eps
        np.multiply(g, self.lr, out=step)
        step /= denom
        p -= step


class RMSProp(Optimizer):
    r"""RMSProp (Hinton's lecture notes, 2012): AdaGrad with a memory that fades.

    .. math::
        G \leftarrow \beta G + (1 - \beta)\, \nabla^2, \qquad
        \theta \leftarrow \theta - \alpha\, \frac{\nabla}{\sqrt{G} + \epsilon}

    :math:`G` is an exponentially decaying average of squared gradients (decay
    :math:`\beta`, default 0.9), not AdaGrad's ever-growing sum, so the per-coordinate
    step size follows the *recent* gradient size and does not shrink to zero. Adam
    (:class:`Adam`) adds momentum on the gradient :math:`\nabla` and a bias correction to this. Derived
    in Chapter 1; state per parameter: ``G``, the shape of the parameter.
    """

    def __init__(self, lr, beta=0.9, eps=1e-8):
        super().__init__(lr)
        self.beta = unit_interval(beta, "beta")
        self.eps = positive_number(eps, "eps")

    def _update(self, name, p, g):
        G = self._slot(name, "G", p)
        step, denom = self._buffers(name, p, 2)
        # G = beta G + (1 - beta) g^2; p -= (lr g) / (sqrt(G) + eps), on kept buffers.
        G *= self.beta
        np.multiply(g, 1 - self.beta, out=step)
        step *= g
        G += step
        np.sqrt(G, out=denom)
        denom += self.eps
        np.multiply(g, self.lr, out=step)
        step /= denom
        p -= step


class Adam(Optimizer):
    r"""Adam (Kingma & Ba 2015): momentum on :math:`\nabla` and a running mean of :math:`\nabla^2`, bias-corrected.

    With :math:`\nabla` the gradient and :math:`t` the number of steps taken, this one included:

    .. math::
        \begin{aligned}
        m &\leftarrow \beta_1 m + (1-\beta_1)\, \nabla, \qquad v \leftarrow \beta_2 v + (1-\beta_2)\, \nabla^2,\\
        \theta &\leftarrow \theta - \alpha\,\frac{m/(1-\beta_1^t)}{\sqrt{v/(1-\beta_2^t)} + \epsilon}
        \end{aligned}
    """

    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
        super().__init__(lr)
        self.beta1 = unit_interval(beta1, "beta1")
        self.beta2 = unit_interval(beta2, "beta2")
        self.eps = positive_number(eps, "eps")

    def _update(self, name, p, g):
        m = self._slot(name, "m", p)
        v = self._slot(name, "v", p)
        step, denom = self._buffers(name, p, 2)
        # The formula above, one in-place operation at a time on kept buffers (no
        # temporary arrays), in the same order of operations, so the same rounding.
        m *= self.beta1
        np.multiply(g, 1 - self.beta1, out=step)
        m += step  # m = beta1 m + (1 - beta1) g
        v *= self.beta2
        np.multiply(g, 1 - self.beta2, out=step)
        step *= g
        v += step  # v = beta2 v + (1 - beta2) g^2
        np.divide(v, 1 - self.beta2**self.t, out=denom)  # v_hat
        np.sqrt(denom, out=denom)
        denom += self.eps
        np.divide(m, 1 - self.beta1**self.t, out=step)  # m_hat
        step *= self.lr
        step /= denom
        p -= step


OPTIMIZERS = {"sgd": SGD, "momentum": Momentum, "adagrad": AdaGrad, "rmsprop": RMSProp, "adam": Adam}
