"""TF1 initializers for `tf.get_variable(..., initializer=...)`: callables (shape, dtype) -> tensor.

    tf.get_variable("w", [784, 10], initializer=tf.truncated_normal_initializer(stddev=0.1))

The default for float variables is `glorot_uniform_initializer()`:
    limit = sqrt(6 / (fan_in + fan_out)),  w ~ U(-limit, limit)
with fan_in = in * receptive field and fan_out = out * receptive field for a conv kernel
(h, w, in, out), as TF computes them.
"""
import math

import torch

from course.framework import dtypes as _dt
from course.graph.array_ops import constant, fill, zeros
from course.graph.random_ops import random_normal, random_uniform, truncated_normal

__all__ = ["Initializer", "zeros_initializer", "ones_initializer", "constant_initializer", "random_normal_initializer",
           "truncated_normal_initializer", "random_uniform_initializer", "variance_scaling_initializer",
           "glorot_uniform_initializer", "glorot_normal_initializer", "he_normal", "he_uniform", "fans"]


def fans(shape):
    """(fan_in, fan_out) of a weight shape: dense (in, out) or conv (..., in, out)."""
    shape = list(shape)
    if not shape:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = math.prod(shape[:-2])
    return shape[-2] * receptive, shape[-1] * receptive


class Initializer:
    """Base class: `init(shape, dtype=None, partition_info=None)` builds the value's ops."""
    dtype = torch.float32

    def __call__(self, shape, dtype=None, partition_info=None):
        raise NotImplementedError

    def get_config(self):
        return {k: v for k, v in self.__dict__.items()}


class zeros_initializer(Initializer):   # noqa: N801 (TF's names)
    def __init__(self, dtype=torch.float32):
        self.dtype = _dt.as_torch_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        return zeros(shape, dtype or self.dtype)


class ones_initializer(Initializer):   # noqa: N801
    def __init__(self, dtype=torch.float32):
        self.dtype = _dt.as_torch_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        return fill(list(shape), constant(1, dtype or self.dtype))


class constant_initializer(Initializer):   # noqa: N801
    def __init__(self, value=0, dtype=torch.float32, verify_shape=False):
        self.value, self.dtype = value, _dt.as_torch_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        return constant(self.value, dtype or self.dtype, shape=list(shape))


class random_normal_initializer(Initializer):   # noqa: N801
    def __init__(self, mean=0.0, stddev=1.0, seed=None, dtype=torch.float32):
        self.mean, self.stddev, self.seed, self.dtype = mean, stddev, seed, _dt.as_torch_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        return random_normal(shape, self.mean, self.stddev, dtype or self.dtype, seed=self.seed)


class truncated_normal_initializer(Initializer):   # noqa: N801
    def __init__(self, mean=0.0, stddev=1.0, seed=None, dtype=torch.float32):
        self.mean, self.stddev, self.seed, self.dtype = mean, stddev, seed, _dt.as_torch_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        return truncated_normal(shape, self.mean, self.stddev, dtype or self.dtype, seed=self.seed)


class random_uniform_initializer(Initializer):   # noqa: N801
    def __init__(self, minval=0.0, maxval=None, seed=None, dtype=torch.float32):
        self.minval, self.maxval, self.seed, self.dtype = minval, maxval, seed, _dt.as_torch_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        return random_uniform(shape, self.minval, self.maxval, dtype or self.dtype, seed=self.seed)


class variance_scaling_initializer(Initializer):   # noqa: N801
    """scale / n with n = fan_in, fan_out or their mean; 'normal' (TF1: truncated), 'truncated_normal',
    'untruncated_normal' or 'uniform'."""

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None, dtype=torch.float32):
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(f"mode must be 'fan_in', 'fan_out' or 'fan_avg'; got {mode!r}.")
        self.scale, self.mode, self.distribution = scale, mode, distribution.lower()
        self.seed, self.dtype = seed, _dt.as_torch_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        fan_in, fan_out = fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[self.mode]
        s = self.scale / max(1.0, n)
        dtype = dtype or self.dtype
        if self.distribution in ("normal", "truncated_normal"):
            return truncated_normal(shape, 0.0, math.sqrt(s) / 0.87962566103423978, dtype, seed=self.seed)
        if self.distribution == "untruncated_normal":
            return random_normal(shape, 0.0, math.sqrt(s), dtype, seed=self.seed)
        limit = math.sqrt(3.0 * s)
        return random_uniform(shape, -limit, limit, dtype, seed=self.seed)


def glorot_uniform_initializer(seed=None, dtype=torch.float32):
    return variance_scaling_initializer(1.0, "fan_avg", "uniform", seed, dtype)


def glorot_normal_initializer(seed=None, dtype=torch.float32):
    return variance_scaling_initializer(1.0, "fan_avg", "truncated_normal", seed, dtype)


def he_normal(seed=None):
    return variance_scaling_initializer(2.0, "fan_in", "truncated_normal", seed)


def he_uniform(seed=None):
    return variance_scaling_initializer(2.0, "fan_in", "uniform", seed)
