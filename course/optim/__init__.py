"""Optimizer update rules, each written once, in TF1, Keras 3 and PyTorch forms.

    rule = course.optim.Adam(learning_rate=0.001, epsilon=1e-7, form="keras")   # or Adam.keras()
    rule.apply(params, grads)          # in place, under torch.no_grad(); None gradients are skipped
    rule.iterations                    # number of apply() calls so far
    rule.learning_rate = 0.01          # float, schedule (step -> lr) or zero-argument callable
    rule.current_lr()                  # the learning rate of the next step
    rule.state_dict(); rule.load_state_dict(d)

Each class docstring states the update and how the forms differ; `Rule.tf1(...)`,
`Rule.keras(...)` and `Rule.torch(...)` build a rule with that framework's argument names and
defaults. `get("adam")` maps Keras' string names to rules.
"""
from course.framework.identifiers import NO_DEFAULT, Registry
from course.optim.adagrad import Adagrad
from course.optim.adam import Adam, AdamW
from course.optim.rmsprop import RMSprop
from course.optim.rule import FORMS, UpdateRule
from course.optim.schedules import CosineDecay, ExponentialDecay, LearningRateSchedule, PiecewiseConstantDecay
from course.optim.sgd import SGD

__all__ = ["UpdateRule", "FORMS", "SGD", "Adagrad", "RMSprop", "Adam", "AdamW", "LearningRateSchedule",
           "ExponentialDecay", "PiecewiseConstantDecay", "CosineDecay", "get", "OPTIMIZERS"]

OPTIMIZERS = Registry("optimizer", {"sgd": SGD, "adagrad": Adagrad, "rmsprop": RMSprop, "adam": Adam, "adamw": AdamW},
                      classes={}, base=UpdateRule, none=NO_DEFAULT, callables=False, ignore_case=True)


def get(identifier, *, form="keras"):
    """A rule from a Keras string name ('adam', 'SGD', 'rmsprop', ...) with `form`'s defaults
    (the `Rule.keras()` / `Rule.torch()` preset); an `UpdateRule` is returned as it is."""
    if isinstance(identifier, UpdateRule):
        return identifier
    if form not in FORMS:
        raise ValueError(f"course.optim.get: form must be one of {FORMS}; got {form!r}.")
    if isinstance(identifier, str):
        cls = OPTIMIZERS.lookup(identifier)
        if form == "tf1":
            raise ValueError("course.optim.get: TF1 optimizers need a learning rate; use e.g. "
                             "Adam.tf1(0.001) or SGD.tf1(0.5).")
        return getattr(cls, form)()
    raise OPTIMIZERS.error(identifier, cls=TypeError)
