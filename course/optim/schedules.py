"""Learning-rate schedules with Keras 3 semantics: a schedule is a callable `step -> lr`.

Pass one as `learning_rate` to any update rule; the rule calls it with `rule.iterations`
(0 on the first step), as Keras calls `schedule(optimizer.iterations)`. A schedule accepts a
Python number (returns a float) or a torch tensor (returns a tensor, for graph-built code).
"""
import math

import torch

__all__ = ["LearningRateSchedule", "ExponentialDecay", "PiecewiseConstantDecay"]


class LearningRateSchedule:
    """Base class: subclasses define `__call__(step)` and `get_config()`."""

    def __call__(self, step):
        raise NotImplementedError(f"{type(self).__name__} must define __call__(self, step).")

    def get_config(self) -> dict:
        raise NotImplementedError(f"{type(self).__name__} must define get_config().")

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.get_config().items())})"


class ExponentialDecay(LearningRateSchedule):
    """lr(step) = initial_learning_rate * decay_rate ** p,  p = step / decay_steps
    (p = floor(step / decay_steps) when staircase).

    Same as `keras.optimizers.schedules.ExponentialDecay` and TF1's
    `tf.train.exponential_decay(learning_rate, global_step, decay_steps, decay_rate, staircase)`.
    """

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 name="ExponentialDecay"):
        if decay_steps <= 0:
            raise ValueError(f"ExponentialDecay: decay_steps must be > 0; got {decay_steps}.")
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name

    def __call__(self, step):
        p = step / self.decay_steps                       # p = step / decay_steps
        if self.staircase:
            p = torch.floor(p) if isinstance(p, torch.Tensor) else math.floor(p)
        if isinstance(p, torch.Tensor):
            return self.initial_learning_rate * torch.pow(torch.as_tensor(float(self.decay_rate),
                                                                          dtype=p.dtype, device=p.device), p)
        return self.initial_learning_rate * self.decay_rate ** p

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "decay_rate": self.decay_rate, "staircase": self.staircase, "name": self.name}


class PiecewiseConstantDecay(LearningRateSchedule):
    """lr(step) = values[0] if step <= boundaries[0]; values[i] if boundaries[i-1] < step <=
    boundaries[i]; values[-1] if step > boundaries[-1]  (`keras.optimizers.schedules` and TF1's
    `tf.train.piecewise_constant`)."""

    def __init__(self, boundaries, values, name="PiecewiseConstant"):
        boundaries, values = list(boundaries), list(values)
        if len(boundaries) != len(values) - 1:
            raise ValueError(f"PiecewiseConstantDecay needs one more value than boundaries; got "
                             f"boundaries={boundaries} ({len(boundaries)}) and values={values} ({len(values)}).")
        if any(b1 >= b2 for b1, b2 in zip(boundaries, boundaries[1:])):
            raise ValueError(f"PiecewiseConstantDecay: boundaries must increase; got {boundaries}.")
        self.boundaries = boundaries
        self.values = values
        self.name = name

    def __call__(self, step):
        if isinstance(step, torch.Tensor):
            b = torch.as_tensor(self.boundaries, dtype=step.dtype, device=step.device)
            i = torch.bucketize(step, b)                  # number of boundaries < step
            return torch.as_tensor(self.values, device=step.device)[i]
        i = sum(1 for b in self.boundaries if step > b)   # number of boundaries < step
        return self.values[i]

    def get_config(self):
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}
