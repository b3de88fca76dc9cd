"""RMSprop (plain, with momentum, centred) in its three forms."""
import torch

from course.optim.rule import UpdateRule

__all__ = ["RMSprop"]


class RMSprop(UpdateRule):
    r"""RMSprop (Hinton, 2012): divide the gradient by a running root-mean-square.

        s = ρ·s + (1-ρ)·g²               mean square, starts at s_0
        c = ρ·c + (1-ρ)·g                mean gradient (centred only), starts at 0
        r = s - c²  if centred else s    the variance estimate

    TF1 and Keras put ε inside the square root and the learning rate inside the momentum
    buffer; PyTorch puts ε outside and the learning rate outside:

        "tf1" / "keras"                          "torch"
        Δ = lr·g / sqrt(r + ε)                   Δ = g / (sqrt(r) + ε)
        momentum:  b = μ·b + Δ;  w -= b          momentum:  b = μ·b + Δ;  w -= lr·b
        none:      w -= Δ                        none:      w -= lr·Δ

        form     s_0   ε default   ρ default        as in
        "tf1"    1.0   1e-10       decay=0.9        tf.compat.v1.train.RMSPropOptimizer
        "keras"  0.0   1e-7        rho=0.9          keras.optimizers.RMSprop
        "torch"  0.0   1e-8        alpha=0.99       torch.optim.RMSprop

    TF1's start at s_0 = 1 makes its first steps tiny (≈ lr·g instead of ≈ 3·lr·sign(g));
    Keras 3 starts at zero. `epsilon` and `initial_accumulator_value` default (None) to the form's
    values. Presets: `RMSprop.tf1(learning_rate, decay=0.9, momentum=0.0, epsilon=1e-10,
    centered=False)`, `RMSprop.keras(learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7,
    centered=False, ...)`, `RMSprop.torch(lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0,
    momentum=0, centered=False)`.
    """

    name = "RMSprop"
    _form_defaults = {"epsilon": {"tf1": 1e-10, "keras": 1e-7, "torch": 1e-8},
                      "initial_accumulator_value": {"tf1": 1.0, "keras": 0.0, "torch": 0.0}}

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=None, centered=False, *,
                 initial_accumulator_value=None, weight_decay=0.0, form="keras", clipnorm=None,
                 clipvalue=None, global_clipnorm=None):
        super().__init__(learning_rate, form=form, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm)
        self.rho, self.momentum, self.centered = float(rho), float(momentum), bool(centered)
        self.epsilon = float(self._default("epsilon", epsilon))
        self.initial_accumulator_value = float(self._default("initial_accumulator_value",
                                                             initial_accumulator_value))
        if not 0.0 <= self.rho < 1.0 or self.momentum < 0:
            raise ValueError(f"RMSprop: rho must be in [0, 1) and momentum >= 0; got rho={rho}, "
                             f"momentum={momentum}.")

    @classmethod
    def tf1(cls, learning_rate, decay=0.9, momentum=0.0, epsilon=1e-10, centered=False):
        """`tf.compat.v1.train.RMSPropOptimizer(learning_rate, decay, momentum, epsilon, centered=...)`."""
        return cls(learning_rate, decay, momentum, epsilon, centered, form="tf1")

    @classmethod
    def keras(cls, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False,
              weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None):
        """`keras.optimizers.RMSprop(...)` (Keras 3 defaults)."""
        return cls(learning_rate, rho, momentum, epsilon, centered, weight_decay=weight_decay or 0.0,
                   form="keras", clipnorm=clipnorm, clipvalue=clipvalue, global_clipnorm=global_clipnorm)

    @classmethod
    def torch(cls, lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False):
        """`torch.optim.RMSprop(params, lr, alpha, eps, weight_decay, momentum, centered)`."""
        return cls(lr, alpha, momentum, eps, centered, weight_decay=weight_decay, form="torch")

    def slot_inits(self):
        slots = {"mean_square": self.initial_accumulator_value}
        if self.centered:
            slots["mean_grad"] = 0.0
        if self.momentum:
            slots["momentum"] = 0.0
        return slots

    def update(self, params, grads, slots, lr, t):
        rho, eps, mu = self.rho, self.epsilon, self.momentum
        s = slots["mean_square"]
        torch._foreach_mul_(s, rho)
        torch._foreach_addcmul_(s, grads, grads, 1.0 - rho)              # s = ρ·s + (1-ρ)·g²
        if self.centered:
            c = slots["mean_grad"]
            torch._foreach_lerp_(c, grads, 1.0 - rho)                    # c = ρ·c + (1-ρ)·g
            r = torch._foreach_addcmul(s, c, c, -1.0)                    # r = s - c²
        else:
            r = s
        if self.form == "torch":
            denom = torch._foreach_sqrt(r)
            torch._foreach_add_(denom, eps)                              # sqrt(r) + ε
            if mu:
                b = slots["momentum"]
                torch._foreach_mul_(b, mu)
                torch._foreach_addcdiv_(b, grads, denom)                 # b = μ·b + g/(sqrt(r) + ε)
                torch._foreach_add_(params, b, alpha=-lr)                # w -= lr·b
            else:
                torch._foreach_addcdiv_(params, grads, denom, -lr)       # w -= lr·g/(sqrt(r) + ε)
            return
        denom = torch._foreach_add(r, eps) if r is s else r
        if r is not s:
            torch._foreach_add_(denom, eps)
        torch._foreach_sqrt_(denom)                                      # sqrt(r + ε)
        if mu:
            b = slots["momentum"]
            torch._foreach_mul_(b, mu)
            torch._foreach_addcdiv_(b, grads, denom, lr)                 # b = μ·b + lr·g/sqrt(r + ε)
            torch._foreach_sub_(params, b)                               # w -= b
        else:
            torch._foreach_addcdiv_(params, grads, denom, -lr)           # w -= lr·g/sqrt(r + ε)
