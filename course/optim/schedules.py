"""Learning-rate schedules with Keras 3 semantics: a schedule is a callable `step -> lr`.

Pass one as `learning_rate` to any update rule; the rule calls it with `rule.iterations`
(0 on the first step), as Keras calls `schedule(optimizer.iterations)`. A schedule accepts a
Python number (returns a float) or a torch tensor (returns a tensor, for graph-built code).
"""
import math

import torch

__all__ = ["LearningRateSchedule", "ExponentialDecay", "PiecewiseConstantDecay", "CosineDecay"]


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


class CosineDecay(LearningRateSchedule):
    """Cosine decay with an optional linear warm-up (`keras.optimizers.schedules.CosineDecay`, Keras 3).

    Without `warmup_target`: lr(step) = initial_learning_rate * ((1 - alpha) * c + alpha),
    c = (1 + cos(pi * min(step, decay_steps) / decay_steps)) / 2.
    With `warmup_target`: for step < warmup_steps the rate rises linearly from initial_learning_rate
    to warmup_target; after that it decays as above from warmup_target, counting steps from the end
    of the warm-up (the step is capped at warmup_steps + decay_steps).
    """

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0, name="CosineDecay", warmup_target=None,
                 warmup_steps=0):
        if decay_steps <= 0:
            raise ValueError(f"CosineDecay: decay_steps must be > 0; got {decay_steps}.")
        if warmup_steps < 0:
            raise ValueError(f"CosineDecay: warmup_steps must be >= 0; got {warmup_steps}.")
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.alpha = alpha
        self.name = name
        self.warmup_target = warmup_target
        self.warmup_steps = warmup_steps

    def _decay(self, step, start_lr):
        fraction = step / self.decay_steps
        cos = torch.cos(math.pi * fraction) if isinstance(fraction, torch.Tensor) else math.cos(math.pi * fraction)
        return start_lr * ((1 - self.alpha) * 0.5 * (1.0 + cos) + self.alpha)

    def __call__(self, step):
        tensor = isinstance(step, torch.Tensor)
        if tensor and not step.is_floating_point():
            step = step.to(torch.float32)
        cap = lambda s, top: torch.clamp(s, max=top) if tensor else min(s, top)      # noqa: E731
        if self.warmup_target is None:
            return self._decay(cap(step, self.decay_steps), self.initial_learning_rate)
        step = cap(step, self.decay_steps + self.warmup_steps)
        rise = (self.warmup_target - self.initial_learning_rate) * (step / max(self.warmup_steps, 1)) \
            + self.initial_learning_rate
        fall = self._decay(step - self.warmup_steps, self.warmup_target)
        if tensor:
            return torch.where(step < self.warmup_steps, rise, fall)
        return rise if step < self.warmup_steps else fall

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "alpha": self.alpha, "name": self.name, "warmup_target": self.warmup_target,
                "warmup_steps": self.warmup_steps}
