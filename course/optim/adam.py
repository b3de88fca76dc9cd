"""Adam and AdamW: one update, written once, in its three forms.

The step runs in one fused kernel, `torch._fused_adam_` (torch's own `Adam(fused=True)`), when it
computes the same maths (see `Adam`); otherwise in `torch._foreach_*` ops.
"""
import math
from itertools import chain

import torch

from course.optim.rule import UpdateRule, bias_corrections, scalars

__all__ = ["Adam", "AdamW"]

_fused_adam_ = getattr(torch, "_fused_adam_", None)   # torch >= 2.4 on CPU and CUDA
_FUSED_REFUSED = set()                                # (device type, dtype) the kernel raised on
_is_contiguous = torch.Tensor.is_contiguous


class Adam(UpdateRule):
    r"""Adam (Kingma & Ba, 2014), with AMSGrad as an option.

    With g the gradient and t the 1-based step:

        m_t = β1·m + (1-β1)·g                 first moment
        v_t = β2·v + (1-β2)·g²                second moment   (AMSGrad: v̂ = max(v̂, v_t), used below)
        α_t = lr·sqrt(1-β2^t) / (1-β1^t)      bias-corrected step size
        w  -= α_t · m_t / (sqrt(v_t) + ε̂)

    The forms differ only in ε̂, where epsilon enters:

        form     epsilon default   ε̂                  as in
        "tf1"    1e-8              ε                  tf.compat.v1.train.AdamOptimizer
        "keras"  1e-7              ε                  keras.optimizers.Adam
        "torch"  1e-8              ε·sqrt(1-β2^t)     torch.optim.Adam

    TF1 and Keras add ε to sqrt(v_t) (the paper's "epsilon hat"); PyTorch adds it to the
    bias-corrected sqrt(v_t/(1-β2^t)), i.e. w -= lr/(1-β1^t) · m_t / (sqrt(v_t)/sqrt(1-β2^t) + ε),
    which is the formula above with ε̂ = ε·sqrt(1-β2^t). Early in training, with tiny v, the two
    differ; later they agree. Both start m and v at zero.

    `weight_decay` (default 0): Keras form decoupled, w -= lr·wd·w before the step (what
    `keras.optimizers.Adam(weight_decay=...)` does); torch form coupled, g += wd·w (L2, what
    `torch.optim.Adam(weight_decay=...)` does; for decoupled decay use `AdamW`). TF1 has none.
    In the torch form the step t is counted per parameter (a parameter skipped with a None
    gradient does not advance), in TF1 and Keras it is the optimizer's `iterations + 1`.

    Presets with each framework's own names and defaults: `Adam.tf1(learning_rate, beta1,
    beta2, epsilon)`, `Adam.keras(learning_rate, beta_1, beta_2, epsilon, amsgrad, ...)`,
    `Adam.torch(lr, betas, eps, weight_decay, amsgrad)`.

    Fast path: torch's fused kernel computes the torch form, denominator sqrt(v_t)/sqrt(1-β2^t) + ε.
    Dividing the TF1/Keras step through by sqrt(1-β2^t) gives the same form with

        ε' = ε / sqrt(1-β2^t)        (a Python float per step: no device synchronisation)

    so every form (AMSGrad included) runs in one kernel per (device, dtype) group; weight decay
    and clipping have already been applied by `UpdateRule.apply`. The kernel is skipped (the
    `_foreach` path runs) when torch lacks it, a weight or slot is not contiguous (gradients are
    copied to contiguous ones), or it raised once for that device type and dtype. The slots stay
    `m`, `v` (and `vhat`) either way.
    """

    name = "Adam"
    _form_defaults = {"epsilon": {"tf1": 1e-8, "keras": 1e-7, "torch": 1e-8}}

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=None, amsgrad=False, *,
                 weight_decay=0.0, form="keras", clipnorm=None, clipvalue=None, global_clipnorm=None):
        super().__init__(learning_rate, form=form, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm)
        self.beta_1, self.beta_2 = float(beta_1), float(beta_2)
        self.epsilon = float(self._default("epsilon", epsilon))
        self.amsgrad = bool(amsgrad)
        self._step_bufs = {}         # {device: 0-d float32 step tensor} for the fused kernel
        if not (0.0 <= self.beta_1 < 1.0 and 0.0 <= self.beta_2 < 1.0):
            raise ValueError(f"{type(self).__name__}: beta_1 and beta_2 must be in [0, 1); got "
                             f"{beta_1}, {beta_2}.")
        if self.amsgrad and self.form == "tf1":
            raise ValueError("Adam(form='tf1'): tf.compat.v1.train.AdamOptimizer has no AMSGrad; "
                             "use form='keras' or form='torch'.")

    @classmethod
    def tf1(cls, learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-8):
        """`tf.compat.v1.train.AdamOptimizer(learning_rate, beta1, beta2, epsilon)`."""
        return cls(learning_rate, beta1, beta2, epsilon, form="tf1")

    @classmethod
    def keras(cls, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False,
              weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None):
        """`keras.optimizers.Adam(...)` (Keras 3 defaults)."""
        return cls(learning_rate, beta_1, beta_2, epsilon, amsgrad, weight_decay=weight_decay or 0.0,
                   form="keras", clipnorm=clipnorm, clipvalue=clipvalue, global_clipnorm=global_clipnorm)

    @classmethod
    def torch(cls, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False):
        """`torch.optim.Adam(params, lr, betas, eps, weight_decay, amsgrad)`."""
        return cls(lr, betas[0], betas[1], eps, amsgrad, weight_decay=weight_decay, form="torch")

    def slot_inits(self):
        return {"m": 0.0, "v": 0.0, "vhat": 0.0} if self.amsgrad else {"m": 0.0, "v": 0.0}

    def update(self, params, grads, slots, lr, t):
        if self._update_fused(params, grads, slots, lr, t):
            return
        b1, b2, eps = self.beta_1, self.beta_2, self.epsilon
        m, v = slots["m"], slots["v"]
        torch._foreach_lerp_(m, grads, 1.0 - b1)                 # m_t = β1·m + (1-β1)·g
        torch._foreach_mul_(v, b2)
        torch._foreach_addcmul_(v, grads, grads, 1.0 - b2)       # v_t = β2·v + (1-β2)·g²
        if self.amsgrad:
            torch._foreach_maximum_(slots["vhat"], v)            # v̂ = max(v̂, v_t)
            v = slots["vhat"]
        bc1, bc2 = bias_corrections(b1, t), bias_corrections(b2, t)
        neg_alpha = scalars(lambda c1, c2: -lr * math.sqrt(c2) / c1, bc1, bc2)   # -α_t
        eps_hat = eps if self.form != "torch" else scalars(lambda c2: eps * math.sqrt(c2), bc2)
        denom = torch._foreach_sqrt(v)
        torch._foreach_add_(denom, eps_hat)                      # sqrt(v_t) + ε̂
        torch._foreach_addcdiv_(params, m, denom, neg_alpha)     # w -= α_t·m_t / (sqrt(v_t) + ε̂)

    def _update_fused(self, params, grads, slots, lr, t):
        """The whole step in `torch._fused_adam_`; False (nothing touched) where it does not apply."""
        p0 = params[0]
        key = (p0.device.type, p0.dtype)
        if _fused_adam_ is None or key in _FUSED_REFUSED:
            return False
        m, v = slots["m"], slots["v"]
        vhat = slots["vhat"] if self.amsgrad else []
        # A conv kernel stored (h, w, in, out) gets its gradient as a permuted view of torch's
        # (out, in, h, w) result: one small copy keeps the whole step in the fused kernel.
        grads = [g if g.is_contiguous() else g.contiguous() for g in grads]
        if not all(map(_is_contiguous, chain(params, m, v, vhat))):
            return False      # the kernel walks raw storage: strides must agree
        if self.form == "torch":
            eps = self.epsilon
        else:                 # t is the shared int step iterations + 1
            eps = self.epsilon / math.sqrt(1.0 - self.beta_2 ** t)                 # ε'
        steps = self._step_tensors(p0.device, t, len(params))
        try:
            _fused_adam_(params, grads, m, v, vhat, steps, lr=lr, beta1=self.beta_1,
                         beta2=self.beta_2, weight_decay=0.0, eps=eps, amsgrad=self.amsgrad,
                         maximize=False)
        except (RuntimeError, NotImplementedError, TypeError):
            _FUSED_REFUSED.add(key)   # e.g. a dtype the kernel has no version for
            return False
        return True

    def _step_tensors(self, device, t, n):
        """The kernel reads the 1-based step t from a float32 tensor on the parameters' device,
        one per parameter; equal steps share one buffer, refilled each call (no synchronisation)."""
        bufs = self._step_bufs
        if isinstance(t, list):   # torch form, per-parameter steps that differ
            made = {s: torch.full((), float(s), dtype=torch.float32, device=device) for s in set(t)}
            return [made[s] for s in t]
        buf = bufs.get(device)
        if buf is None:
            buf = bufs[device] = torch.zeros((), dtype=torch.float32, device=device)
        buf.fill_(float(t))
        return [buf] * n


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019), in every form:

        w -= lr·wd·w          before the Adam step (which is exactly `Adam`'s, ε̂ included)

    Defaults: Keras `keras.optimizers.AdamW` weight_decay=0.004, epsilon=1e-7; PyTorch
    `torch.optim.AdamW` weight_decay=0.01, eps=1e-8. TF1 has no AdamW (it lived in tf.contrib),
    so form="tf1" is refused.
    """

    name = "AdamW"

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=None, amsgrad=False, *,
                 weight_decay=0.004, form="keras", clipnorm=None, clipvalue=None, global_clipnorm=None):
        if form == "tf1":
            raise ValueError("AdamW(form='tf1'): TF1 has no AdamW optimizer; use form='keras' or 'torch', "
                             "or Adam(form='tf1') with an L2 term in the loss.")
        super().__init__(learning_rate, beta_1, beta_2, epsilon, amsgrad, weight_decay=weight_decay,
                         form=form, clipnorm=clipnorm, clipvalue=clipvalue, global_clipnorm=global_clipnorm)

    @property
    def decoupled_weight_decay(self):
        return True

    @classmethod
    def tf1(cls, *args, **kwargs):
        return cls(form="tf1")

    @classmethod
    def keras(cls, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
              amsgrad=False, clipnorm=None, clipvalue=None, global_clipnorm=None):
        """`keras.optimizers.AdamW(...)` (Keras 3 defaults)."""
        return cls(learning_rate, beta_1, beta_2, epsilon, amsgrad, weight_decay=weight_decay, form="keras",
                   clipnorm=clipnorm, clipvalue=clipvalue, global_clipnorm=global_clipnorm)

    @classmethod
    def torch(cls, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False):
        """`torch.optim.AdamW(params, lr, betas, eps, weight_decay, amsgrad)`."""
        return cls(lr, betas[0], betas[1], eps, amsgrad, weight_decay=weight_decay, form="torch")
