"""Keras preprocessing and augmentation layers: Rescaling, Resizing, Normalization (with `adapt`),
RandomFlip, RandomRotation, RandomZoom, RandomTranslation, RandomCrop, RandomContrast, RandomBrightness.

Images are channels-last, as in Keras. The random layers act only when `training=True` (inside
`fit`, or called with it) and pass images through unchanged otherwise. Their geometry is Keras 3's:
an output pixel (x, y) reads the input at ((a0·x + a1·y + a2), (b0·x + b1·y + b2)) with pixel
centres at integer coordinates, bilinear or nearest interpolation, and TF's fill modes (`reflect`
mirrors about the edge, `nearest` repeats it, `constant` uses `fill_value`; `wrap` is refused). The
random draws come from torch's generator, so the angles and offsets differ from Keras' for the same
seed (the ranges are Keras').
"""
import math

import numpy as np
import torch

from course.keras.layers.base import Layer
from course.keras.layers.call_context import call_context
from course.tape.image import resize as _resize
from course.tape.tensor import to_numpy, to_tensor
from course.framework.convert import as_plain

__all__ = ["Rescaling", "Resizing", "Normalization", "RandomFlip", "RandomRotation", "RandomZoom",
           "RandomTranslation", "RandomCrop", "RandomContrast", "RandomBrightness", "affine_transform"]

_FILL_MODES = ("reflect", "constant", "nearest")


def _check_fill_mode(mode):
    if mode == "wrap":
        raise NotImplementedError("fill_mode='wrap' is not supported here; use 'reflect', 'nearest' or 'constant'.")
    if mode not in _FILL_MODES:
        raise ValueError(f"fill_mode must be one of {_FILL_MODES}; got {mode!r}.")


def _map_coordinates(c, size, mode):
    """TF's ImageProjectiveTransform coordinate mapping for one axis."""
    if mode == "reflect":
        period = 2.0 * size
        c = torch.remainder(c, period)                      # c in [0, 2·size)
        c = torch.where(c >= size, period - c - 1.0, c)
        return c.clamp(0, size - 1)
    if mode == "nearest":
        return c.clamp(0, size - 1)
    return c                                                 # constant: out of range reads fill_value


def affine_transform(images, transform, interpolation="bilinear", fill_mode="constant", fill_value=0.0):
    """images (N, H, W, C); transform (N, 8) as Keras' `ops.image.affine_transform` takes it."""
    _check_fill_mode(fill_mode)
    n, h, w, c = images.shape
    t = transform.to(torch.float32)
    ys, xs = torch.meshgrid(torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32),
                            indexing="ij")
    xs, ys = xs.to(t.device)[None], ys.to(t.device)[None]
    k = t[:, 6, None, None] * xs + t[:, 7, None, None] * ys + 1.0
    x_in = (t[:, 0, None, None] * xs + t[:, 1, None, None] * ys + t[:, 2, None, None]) / k  # (N, H, W)
    y_in = (t[:, 3, None, None] * xs + t[:, 4, None, None] * ys + t[:, 5, None, None]) / k
    x_in, y_in = _map_coordinates(x_in, w, fill_mode), _map_coordinates(y_in, h, fill_mode)
    flat = images.reshape(n, h * w, c).float()

    def read(yi, xi):
        inside = (xi >= 0) & (xi <= w - 1) & (yi >= 0) & (yi <= h - 1)
        idx = (yi.clamp(0, h - 1) * w + xi.clamp(0, w - 1)).long().reshape(n, -1, 1).expand(-1, -1, c)
        vals = torch.gather(flat, 1, idx).reshape(n, h, w, c)
        return torch.where(inside[..., None], vals, torch.full_like(vals, float(fill_value)))

    if interpolation == "nearest":
        out = read(torch.round(y_in), torch.round(x_in))
    elif interpolation == "bilinear":
        x0, y0 = torch.floor(x_in), torch.floor(y_in)
        wx, wy = (x_in - x0)[..., None], (y_in - y0)[..., None]
        out = (read(y0, x0) * (1 - wx) * (1 - wy) + read(y0, x0 + 1) * wx * (1 - wy)
               + read(y0 + 1, x0) * (1 - wx) * wy + read(y0 + 1, x0 + 1) * wx * wy)
    else:
        raise ValueError(f"interpolation must be 'bilinear' or 'nearest'; got {interpolation!r}.")
    return out.to(images.dtype if images.is_floating_point() else torch.float32)


def _range(factor, name, symmetric=True):
    if isinstance(factor, (tuple, list)):
        if len(factor) != 2:
            raise ValueError(f"{name} must be a number or a pair (lower, upper); got {factor!r}.")
        return tuple(sorted(float(f) for f in factor))
    factor = abs(float(factor))
    return (-factor, factor) if symmetric else (0.0, factor)


class _Augmentation(Layer):
    """Shared by the random layers: pass through unless training (which a layer called on its own
    is, as in Keras 3); a torch generator per seed."""

    _call_training_default = True

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self._generator = torch.Generator().manual_seed(int(seed)) if seed is not None else None

    def _uniform(self, n, low, high):
        u = torch.rand(n, generator=self._generator) if self._generator is not None else torch.rand(n)
        return low + (high - low) * u

    def call(self, inputs, training=None):
        if not training:
            return inputs
        x = as_plain(inputs)
        batch = x if x.dim() == 4 else x.unsqueeze(0)
        out = self._augment(batch)
        return out if x.dim() == 4 else out.squeeze(0)

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}


class Rescaling(Layer):
    """x · scale + offset (`Rescaling(1/255)` maps [0, 255] to [0, 1])."""

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.scale, self.offset = scale, offset

    def call(self, inputs):
        x = as_plain(inputs)
        x = x.float() if not x.is_floating_point() else x
        return x * float(self.scale) + float(self.offset)

    def get_config(self):
        return {**super().get_config(), "scale": self.scale, "offset": self.offset}


class Resizing(Layer):
    """Resize images to (height, width) with tf.image.resize's arithmetic."""

    def __init__(self, height, width, interpolation="bilinear", crop_to_aspect_ratio=False, pad_to_aspect_ratio=False,
                 fill_mode="constant", fill_value=0.0, antialias=False, data_format=None, **kwargs):
        super().__init__(**kwargs)
        if pad_to_aspect_ratio:
            raise NotImplementedError("Resizing(pad_to_aspect_ratio=True) is not supported; use "
                                      "crop_to_aspect_ratio=True, or tf.image.resize_with_crop_or_pad.")
        self.height, self.width, self.interpolation = int(height), int(width), interpolation
        self.crop_to_aspect_ratio, self.antialias = bool(crop_to_aspect_ratio), bool(antialias)

    def call(self, inputs):
        x = as_plain(inputs)
        if self.crop_to_aspect_ratio:
            h, w = x.shape[-3], x.shape[-2]
            ch, cw = min(h, int(w * self.height / self.width)), min(w, int(h * self.width / self.height))
            top, left = (h - ch) // 2, (w - cw) // 2
            x = x[..., top:top + ch, left:left + cw, :]
        return as_plain(_resize(x, (self.height, self.width), method=self.interpolation, antialias=self.antialias))

    def get_config(self):
        return {**super().get_config(), "height": self.height, "width": self.width,
                "interpolation": self.interpolation, "crop_to_aspect_ratio": self.crop_to_aspect_ratio,
                "pad_to_aspect_ratio": False, "fill_mode": "constant", "fill_value": 0.0, "antialias": self.antialias,
                "data_format": "channels_last"}


class Normalization(Layer):
    """(x - mean) / max(sqrt(variance), 1e-7) per feature of `axis`; `adapt(data)` learns mean and variance."""

    def __init__(self, axis=-1, mean=None, variance=None, invert=False, **kwargs):
        super().__init__(**kwargs)
        self.axis = (axis,) if isinstance(axis, int) else tuple(axis or ())
        self.invert = bool(invert)
        if (mean is None) != (variance is None):
            raise ValueError("Normalization: pass both mean and variance, or neither (and call adapt()).")
        self.input_mean, self.input_variance = mean, variance
        self._mean = self._variance = None
        if mean is not None:
            self._mean = torch.as_tensor(np.asarray(mean, np.float32))
            self._variance = torch.as_tensor(np.asarray(variance, np.float32))

    def adapt(self, data, batch_size=None, steps=None):
        """Mean and (population) variance over every axis except `axis`, from an array or a dataset."""
        if hasattr(data, "_iter_elements"):
            parts = [to_numpy(e if not isinstance(e, tuple) else e[0]) for e in data]
            arr = np.concatenate([p if p.ndim else p[None] for p in parts]) if data._batched else np.stack(parts)
        else:
            arr = to_numpy(to_tensor(data))
        arr = arr.astype(np.float64)
        keep = tuple(a % arr.ndim for a in self.axis)
        reduce = tuple(a for a in range(arr.ndim) if a not in keep)
        mean, var = arr.mean(axis=reduce, keepdims=True), arr.var(axis=reduce, keepdims=True)
        self._mean = torch.as_tensor(mean.astype(np.float32))
        self._variance = torch.as_tensor(var.astype(np.float32))

    @property
    def mean(self):
        return None if self._mean is None else self._mean.numpy()

    @property
    def variance(self):
        return None if self._variance is None else self._variance.numpy()

    def call(self, inputs):
        if self._mean is None:
            raise ValueError("Normalization has no mean and variance yet: call layer.adapt(data) or pass "
                             "mean= and variance= when creating it.")
        x = as_plain(inputs).float()
        mean, std = self._mean.to(x.device), torch.clamp(torch.sqrt(self._variance.to(x.device)), min=1e-7)
        if mean.dim() > x.dim():
            mean, std = mean.reshape(mean.shape[-x.dim():]), std.reshape(std.shape[-x.dim():])
        return mean + x * std if self.invert else (x - mean) / std

    def get_config(self):
        return {**super().get_config(), "axis": self.axis[0] if len(self.axis) == 1 else list(self.axis),
                "invert": self.invert, "mean": _listed(self.input_mean), "variance": _listed(self.input_variance)}


def _listed(v):
    return None if v is None else np.asarray(v).tolist()


class RandomFlip(_Augmentation):
    """Each image flipped left-right and/or up-down with probability 1/2."""

    def __init__(self, mode="horizontal_and_vertical", seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        if mode not in ("horizontal", "vertical", "horizontal_and_vertical"):
            raise ValueError(f"RandomFlip mode must be 'horizontal', 'vertical' or 'horizontal_and_vertical'; "
                             f"got {mode!r}.")
        self.mode = mode

    def _augment(self, x):
        n = x.shape[0]
        if "horizontal" in self.mode:
            flip = (self._uniform(n, 0, 1) < 0.5).to(x.device).view(-1, 1, 1, 1)
            x = torch.where(flip, torch.flip(x, (2,)), x)
        if "vertical" in self.mode:
            flip = (self._uniform(n, 0, 1) < 0.5).to(x.device).view(-1, 1, 1, 1)
            x = torch.where(flip, torch.flip(x, (1,)), x)
        return x

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}


class _Affine(_Augmentation):
    def __init__(self, fill_mode="reflect", interpolation="bilinear", seed=None, fill_value=0.0, **kwargs):
        super().__init__(seed=seed, **kwargs)
        _check_fill_mode(fill_mode)
        self.fill_mode, self.interpolation, self.fill_value = fill_mode, interpolation, fill_value

    def _augment(self, x):
        transform = self._transform(x.shape[0], x.shape[1], x.shape[2]).to(x.device)
        return affine_transform(x, transform, self.interpolation, self.fill_mode, self.fill_value)

    def get_config(self):
        return {**super().get_config(), "fill_mode": self.fill_mode, "interpolation": self.interpolation,
                "fill_value": self.fill_value}


class RandomRotation(_Affine):
    """Rotate by a random fraction of a full turn in `factor` (0.1 = up to ±36°), about the centre."""

    def __init__(self, factor, fill_mode="reflect", interpolation="bilinear", seed=None, fill_value=0.0, **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, **kwargs)
        self.factor = _range(factor, "factor")

    def _transform(self, n, h, w):
        angle = self._uniform(n, self.factor[0] * 2 * math.pi, self.factor[1] * 2 * math.pi)
        cos, sin = torch.cos(angle), torch.sin(angle)
        cx, cy = 0.5 * (w - 1), 0.5 * (h - 1)
        a0, a1, b0, b1 = cos, -sin, sin, cos
        a2, b2 = cx - cx * a0 - cy * a1, cy - cx * b0 - cy * b1
        zero = torch.zeros(n)
        return torch.stack([a0, a1, a2, b0, b1, b2, zero, zero], 1)

    def get_config(self):
        return {**super().get_config(), "factor": list(self.factor)}


class RandomZoom(_Affine):
    """Zoom by 1 + a random value in `height_factor` (positive zooms out, negative in), about the centre."""

    def __init__(self, height_factor, width_factor=None, fill_mode="reflect", interpolation="bilinear", seed=None,
                 fill_value=0.0, **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, **kwargs)
        self.height_factor = _range(height_factor, "height_factor")
        self.width_factor = None if width_factor is None else _range(width_factor, "width_factor")

    def _transform(self, n, h, w):
        zy = 1.0 + self._uniform(n, *self.height_factor)
        zx = zy if self.width_factor is None else 1.0 + self._uniform(n, *self.width_factor)
        zero = torch.zeros(n)
        return torch.stack([zx, zero, (w - 1) / 2 * (1 - zx), zero, zy, (h - 1) / 2 * (1 - zy), zero, zero], 1)

    def get_config(self):
        return {**super().get_config(), "height_factor": list(self.height_factor),
                "width_factor": None if self.width_factor is None else list(self.width_factor)}


class RandomTranslation(_Affine):
    """Shift by random fractions of the height and width in the given ranges."""

    def __init__(self, height_factor, width_factor, fill_mode="reflect", interpolation="bilinear", seed=None,
                 fill_value=0.0, **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, **kwargs)
        self.height_factor = _range(height_factor, "height_factor")
        self.width_factor = _range(width_factor, "width_factor")

    def _transform(self, n, h, w):
        dy = self._uniform(n, *self.height_factor) * h
        dx = self._uniform(n, *self.width_factor) * w
        one, zero = torch.ones(n), torch.zeros(n)
        return torch.stack([one, zero, -dx, zero, one, -dy, zero, zero], 1)

    def get_config(self):
        return {**super().get_config(), "height_factor": list(self.height_factor),
                "width_factor": list(self.width_factor)}


class RandomCrop(_Augmentation):
    """A random (height, width) window when training (an image smaller than that is resized to it);
    unchanged at inference, as Keras 3 does."""

    def __init__(self, height, width, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.height, self.width = int(height), int(width)

    def call(self, inputs, training=None):
        x = as_plain(inputs)
        batch = x if x.dim() == 4 else x.unsqueeze(0)
        h, w = batch.shape[1], batch.shape[2]
        if not training and not getattr(call_context, "dry_run", False):
            return inputs                    # Keras 3 passes images through at inference
        if not training:                     # shape inference: Keras reports the cropped shape
            top, left = max((h - self.height) // 2, 0), max((w - self.width) // 2, 0)
            out = batch[:, top:top + self.height, left:left + self.width]
            return out if x.dim() == 4 else out.squeeze(0)
        if h >= self.height and w >= self.width:
            top = int(self._uniform(1, 0, 1).item() * (h - self.height + 1))
            left = int(self._uniform(1, 0, 1).item() * (w - self.width + 1))
            out = batch[:, top:top + self.height, left:left + self.width]
        else:                                # smaller than the target: the whole image, resized
            out = as_plain(_resize(batch, (self.height, self.width)))
        return out if x.dim() == 4 else out.squeeze(0)

    def get_config(self):
        return {**super().get_config(), "height": self.height, "width": self.width}


def _keras_factor(factor, bounds):
    """Keras 3's factor rule: a number f gives (max(-f, low), f); a pair is sorted; both within bounds."""
    text = (f"The `factor` argument should be a number (or a list of two numbers) in the range "
            f"[{bounds[0]}, {bounds[1]}]. Received: factor={factor}")
    if isinstance(factor, (tuple, list)):
        if len(factor) != 2 or factor[0] > bounds[1] or factor[1] < bounds[0]:
            raise ValueError(text)
        return tuple(sorted(float(f) for f in factor))
    if not bounds[0] <= float(factor) <= bounds[1]:
        raise ValueError(text)
    factor = abs(float(factor))
    return max(-factor, bounds[0]), factor


class RandomContrast(_Augmentation):
    """(x - mean) · c + mean per image (mean over height and width), c uniform in [1 - lower, 1 + upper],
    clipped to `value_range` (Keras 3: RandomContrast(0.2) draws c in [1, 1.2])."""

    def __init__(self, factor, value_range=(0, 255), seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.factor, self.value_range = _keras_factor(factor, (0, 1)), tuple(value_range)

    def _augment(self, x):
        x = x.float()
        c = self._uniform(x.shape[0], 1.0 - self.factor[0], 1.0 + self.factor[1]).to(x.device).view(-1, 1, 1, 1)
        mean = x.mean(dim=(1, 2), keepdim=True)
        return ((x - mean) * c + mean).clamp(self.value_range[0], self.value_range[1])

    def get_config(self):
        return {**super().get_config(), "factor": list(self.factor), "value_range": list(self.value_range)}


class RandomBrightness(_Augmentation):
    """x + δ per image, δ uniform in factor · (value range width), clipped to `value_range`."""

    def __init__(self, factor, value_range=(0, 255), seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.factor, self.value_range = _keras_factor(factor, (-1, 1)), tuple(sorted(value_range))

    def _augment(self, x):
        x = x.float()
        width = self.value_range[1] - self.value_range[0]
        delta = self._uniform(x.shape[0], *self.factor).to(x.device).view(-1, 1, 1, 1) * width
        return (x + delta).clamp(self.value_range[0], self.value_range[1])

    def get_config(self):
        return {**super().get_config(), "factor": list(self.factor), "value_range": list(self.value_range)}
