"""Stochastic gradient descent, with momentum and Nesterov momentum, in its three forms."""
import torch

from course.optim.rule import UpdateRule

__all__ = ["SGD"]


class SGD(UpdateRule):
    r"""Gradient descent with optional (Nesterov) momentum μ.

    Without momentum every form is  w -= lr·g.  With momentum the forms keep different buffers:

        "tf1" / "torch"  (tf.compat.v1.train.MomentumOptimizer, torch.optim.SGD)
            a = μ·a + (1-d)·g            accumulator of gradients (d = dampening, torch only;
                                         torch's first step sets a = g)
            w -= lr·a                    plain
            w -= lr·(g + μ·a)            Nesterov (TF1 use_nesterov=True, torch nesterov=True)

        "keras"  (keras.optimizers.SGD)
            m = μ·m - lr·g               a velocity: the learning rate is inside the buffer
            w += m                       plain
            w += μ·m - lr·g              Nesterov

    With a constant learning rate the two are the same trajectory (m = -lr·a); they differ when
    the learning rate changes during training: Keras' buffer remembers old learning rates, TF1's
    and torch's rescale the whole history by the new one. Buffers start at zero.

    `weight_decay`: Keras form decoupled (w -= lr·wd·w first), torch form coupled (g += wd·w);
    TF1 has none. Presets: `SGD.tf1(learning_rate, momentum=0.0, use_nesterov=False)` (covers
    GradientDescentOptimizer and MomentumOptimizer), `SGD.keras(learning_rate=0.01, momentum=0.0,
    nesterov=False, ...)`, `SGD.torch(lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False)`.
    """

    name = "SGD"

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, *, dampening=0.0, weight_decay=0.0,
                 form="keras", clipnorm=None, clipvalue=None, global_clipnorm=None):
        super().__init__(learning_rate, form=form, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm)
        self.momentum, self.nesterov, self.dampening = float(momentum), bool(nesterov), float(dampening)
        if self.momentum < 0:
            raise ValueError(f"SGD: momentum must be >= 0; got {momentum}.")
        if self.nesterov and self.form == "torch" and (self.momentum <= 0 or self.dampening != 0):
            raise ValueError(f"SGD(form='torch'): Nesterov momentum needs momentum > 0 and dampening 0; got "
                             f"momentum={momentum}, dampening={dampening}.")
        if self.dampening and self.form != "torch":
            raise ValueError(f"SGD(form={form!r}): dampening exists only in torch.optim.SGD; use form='torch'.")

    @classmethod
    def tf1(cls, learning_rate, momentum=0.0, use_nesterov=False):
        """`tf.compat.v1.train.GradientDescentOptimizer(learning_rate)` (momentum=0) and
        `tf.compat.v1.train.MomentumOptimizer(learning_rate, momentum, use_nesterov=...)`."""
        return cls(learning_rate, momentum, use_nesterov, form="tf1")

    @classmethod
    def keras(cls, learning_rate=0.01, momentum=0.0, nesterov=False, weight_decay=None, clipnorm=None,
              clipvalue=None, global_clipnorm=None):
        """`keras.optimizers.SGD(...)` (Keras 3 defaults)."""
        return cls(learning_rate, momentum, nesterov, weight_decay=weight_decay or 0.0, form="keras",
                   clipnorm=clipnorm, clipvalue=clipvalue, global_clipnorm=global_clipnorm)

    @classmethod
    def torch(cls, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
        """`torch.optim.SGD(params, lr, momentum, dampening, weight_decay, nesterov)`."""
        return cls(lr, momentum, nesterov, dampening=dampening, weight_decay=weight_decay, form="torch")

    def slot_inits(self):
        return {"momentum": 0.0} if self.momentum else {}

    def update(self, params, grads, slots, lr, t):
        mu = self.momentum
        if not mu:
            torch._foreach_add_(params, grads, alpha=-lr)              # w -= lr·g
            return
        buf = slots["momentum"]
        if self.form == "keras":
            torch._foreach_mul_(buf, mu)
            torch._foreach_add_(buf, grads, alpha=-lr)                 # m = μ·m - lr·g
            if self.nesterov:
                torch._foreach_add_(params, buf, alpha=mu)
                torch._foreach_add_(params, grads, alpha=-lr)          # w += μ·m - lr·g
            else:
                torch._foreach_add_(params, buf)                       # w += m
            return
        d = self.dampening
        if d:                                                          # torch: the first step sets a = g
            steps = t if isinstance(t, list) else [t] * len(buf)
            for i, s in enumerate(steps):
                if s == 1:
                    buf[i].copy_(grads[i])
            rest = [i for i, s in enumerate(steps) if s != 1]
            if rest:
                b, g = [buf[i] for i in rest], [grads[i] for i in rest]
                torch._foreach_mul_(b, mu)
                torch._foreach_add_(b, g, alpha=1.0 - d)               # a = μ·a + (1-d)·g
        else:
            torch._foreach_mul_(buf, mu)
            torch._foreach_add_(buf, grads)                            # a = μ·a + g
        if self.nesterov:
            torch._foreach_add_(params, grads, alpha=-lr)
            torch._foreach_add_(params, buf, alpha=-lr * mu)           # w -= lr·(g + μ·a)
        else:
            torch._foreach_add_(params, buf, alpha=-lr)                # w -= lr·a
