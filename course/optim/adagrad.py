"""Adagrad in its three forms."""
import torch

from course.optim.rule import UpdateRule, scalars

__all__ = ["Adagrad"]


class Adagrad(UpdateRule):
    r"""Adagrad (Duchi et al., 2011): a per-coordinate step shrinking with the summed squares.

        a   = a + g²                              accumulator, starts at a_0
        w  -= lr_t · g / (sqrt(a + ε_in) + ε_out)

        form     a_0   ε                          lr_t                       as in
        "tf1"    0.1   none                       lr                         tf.compat.v1.train.AdagradOptimizer
        "keras"  0.1   1e-7 inside the sqrt       lr                         keras.optimizers.Adagrad
        "torch"  0     1e-10 outside the sqrt     lr/(1+(t-1)·lr_decay)      torch.optim.Adagrad

    `initial_accumulator_value` and `epsilon` default (None) to the form's values above.
    Presets: `Adagrad.tf1(learning_rate, initial_accumulator_value=0.1)`,
    `Adagrad.keras(learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7, ...)`,
    `Adagrad.torch(lr=0.01, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10)`.
    """

    name = "Adagrad"
    _form_defaults = {"initial_accumulator_value": {"tf1": 0.1, "keras": 0.1, "torch": 0.0},
                      "epsilon": {"tf1": 0.0, "keras": 1e-7, "torch": 1e-10}}

    def __init__(self, learning_rate=0.001, initial_accumulator_value=None, epsilon=None, *, lr_decay=0.0,
                 weight_decay=0.0, form="keras", clipnorm=None, clipvalue=None, global_clipnorm=None):
        super().__init__(learning_rate, form=form, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm)
        self.initial_accumulator_value = float(self._default("initial_accumulator_value",
                                                             initial_accumulator_value))
        self.epsilon = float(self._default("epsilon", epsilon))
        self.lr_decay = float(lr_decay)
        if self.initial_accumulator_value < 0:
            raise ValueError(f"Adagrad: initial_accumulator_value must be >= 0; got {initial_accumulator_value}.")
        if self.lr_decay and self.form != "torch":
            raise ValueError(f"Adagrad(form={form!r}): lr_decay exists only in torch.optim.Adagrad; "
                             "use a learning-rate schedule instead.")

    @classmethod
    def tf1(cls, learning_rate, initial_accumulator_value=0.1):
        """`tf.compat.v1.train.AdagradOptimizer(learning_rate, initial_accumulator_value)`."""
        return cls(learning_rate, initial_accumulator_value, 0.0, form="tf1")

    @classmethod
    def keras(cls, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7, weight_decay=None,
              clipnorm=None, clipvalue=None, global_clipnorm=None):
        """`keras.optimizers.Adagrad(...)` (Keras 3 defaults)."""
        return cls(learning_rate, initial_accumulator_value, epsilon, weight_decay=weight_decay or 0.0,
                   form="keras", clipnorm=clipnorm, clipvalue=clipvalue, global_clipnorm=global_clipnorm)

    @classmethod
    def torch(cls, lr=0.01, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10):
        """`torch.optim.Adagrad(params, lr, lr_decay, weight_decay, initial_accumulator_value, eps)`."""
        return cls(lr, initial_accumulator_value, eps, lr_decay=lr_decay, weight_decay=weight_decay,
                   form="torch")

    def slot_inits(self):
        return {"accumulator": self.initial_accumulator_value}

    def update(self, params, grads, slots, lr, t):
        a, eps = slots["accumulator"], self.epsilon
        torch._foreach_addcmul_(a, grads, grads)                   # a = a + g²
        if self.form == "keras":
            denom = torch._foreach_add(a, eps)
            torch._foreach_sqrt_(denom)                            # sqrt(a + ε)
        else:
            denom = torch._foreach_sqrt(a)
            if eps:
                torch._foreach_add_(denom, eps)                    # sqrt(a) + ε
        neg_lr = scalars(lambda s: -lr / (1.0 + (s - 1) * self.lr_decay), t) if self.lr_decay else -lr
        torch._foreach_addcdiv_(params, grads, denom, neg_lr)      # w -= lr_t·g / denom
