"""`tf.image`: the augmentation and conversion ops TF's guides use, on NHWC or HWC tensors.

Layout and arithmetic follow TensorFlow: images are channels-last, a 3-D image is one image and a
4-D tensor a batch (random ops draw independently per image); `resize` returns float32 and uses
half-pixel centres (`bilinear` = torch's bilinear without corner alignment, `nearest` = torch's
`nearest-exact`); `convert_image_dtype` scales integers by their maximum; `adjust_contrast` and
`per_image_standardization` use per-image (per-channel) means. The random values themselves come
from torch's generators, so a seeded `random_*`/`stateless_random_*` op is repeatable here but
draws differently from TF's Philox streams. Saturation and hue go through HSV as TF's do.
`bicubic`/`area`/`lanczos` resizing is not supported.
"""
import math

import torch
import torch.nn.functional as F

from course.framework.dtypes import as_dtype, as_torch_dtype
from course.tape.random import generator_for
from course.tape.tensor import to_tensor, wrap
from course.framework.convert import as_plain

__all__ = ["flip_left_right", "flip_up_down", "transpose", "rot90", "resize", "central_crop", "crop_to_bounding_box",
           "pad_to_bounding_box", "resize_with_crop_or_pad", "random_crop", "random_flip_left_right",
           "random_flip_up_down", "stateless_random_flip_left_right", "stateless_random_flip_up_down",
           "stateless_random_crop", "adjust_brightness", "adjust_contrast", "adjust_gamma", "random_brightness",
           "random_contrast", "stateless_random_brightness", "stateless_random_contrast", "convert_image_dtype",
           "per_image_standardization", "rgb_to_grayscale", "grayscale_to_rgb", "ResizeMethod", "rgb_to_hsv",
           "hsv_to_rgb", "adjust_saturation", "adjust_hue", "random_saturation", "random_hue",
           "stateless_random_saturation", "stateless_random_hue"]


def _image(x, what="image"):
    t = as_plain(to_tensor(x))
    if t.dim() not in (3, 4):
        raise ValueError(f"'{what}' (shape {tuple(t.shape)}) must have either 3 or 4 dimensions: (height, width, "
                         f"channels) or (batch, height, width, channels).")
    return t


def _batched(fn):
    """Run `fn` on a 4-D batch; a 3-D image goes in as a batch of one and comes out 3-D."""
    def run(image, *args, **kwargs):
        t = _image(image)
        out = fn(t if t.dim() == 4 else t.unsqueeze(0), *args, **kwargs)
        return wrap(out if t.dim() == 4 else out.squeeze(0))
    run.__name__, run.__doc__ = fn.__name__, fn.__doc__
    return run


@_batched
def flip_left_right(image):
    return torch.flip(image, (2,))


@_batched
def flip_up_down(image):
    return torch.flip(image, (1,))


@_batched
def transpose(image, name=None):
    return image.transpose(1, 2)


@_batched
def rot90(image, k=1, name=None):
    """Counter-clockwise by 90° k times (TF's direction)."""
    return torch.rot90(image, int(k), dims=(1, 2))


class ResizeMethod:
    BILINEAR = "bilinear"
    NEAREST_NEIGHBOR = "nearest"
    BICUBIC = "bicubic"
    AREA = "area"
    LANCZOS3 = "lanczos3"
    LANCZOS5 = "lanczos5"
    GAUSSIAN = "gaussian"
    MITCHELLCUBIC = "mitchellcubic"


@_batched
def resize(images, size, method=ResizeMethod.BILINEAR, preserve_aspect_ratio=False, antialias=False, name=None):
    """`tf.image.resize`: to `size` = (height, width), float32 out (nearest keeps the dtype, as TF)."""
    h, w = (int(s) for s in (size.tolist() if isinstance(size, torch.Tensor) else size))
    if preserve_aspect_ratio:
        scale = min(h / images.shape[1], w / images.shape[2])
        h, w = int(round(images.shape[1] * scale)), int(round(images.shape[2] * scale))
    x = images.permute(0, 3, 1, 2)
    if method == ResizeMethod.NEAREST_NEIGHBOR:
        out = F.interpolate(x.float(), size=(h, w), mode="nearest-exact").to(images.dtype)
    elif method == ResizeMethod.BILINEAR:
        out = F.interpolate(x.float() if not x.is_floating_point() else x, size=(h, w), mode="bilinear",
                            align_corners=False, antialias=bool(antialias)).float()
    else:
        raise NotImplementedError(f"tf.image.resize method={method!r} is not supported; use 'bilinear' or 'nearest'.")
    return out.permute(0, 2, 3, 1)


@_batched
def central_crop(image, central_fraction):
    """Keep the central `central_fraction` of height and width (TF's rounding)."""
    if not 0.0 < central_fraction <= 1.0:
        raise ValueError("central_fraction must be within (0, 1]")
    h, w = image.shape[1], image.shape[2]
    top, left = int((h - h * central_fraction) / 2), int((w - w * central_fraction) / 2)
    return image[:, top:h - top, left:w - left]


@_batched
def crop_to_bounding_box(image, offset_height, offset_width, target_height, target_width):
    oh, ow, th, tw = int(offset_height), int(offset_width), int(target_height), int(target_width)
    if oh + th > image.shape[1] or ow + tw > image.shape[2] or min(oh, ow) < 0:
        raise ValueError(f"The box (offset {oh}, {ow}, size {th}x{tw}) does not fit in the image "
                         f"({image.shape[1]}x{image.shape[2]}).")
    return image[:, oh:oh + th, ow:ow + tw]


@_batched
def pad_to_bounding_box(image, offset_height, offset_width, target_height, target_width):
    oh, ow, th, tw = int(offset_height), int(offset_width), int(target_height), int(target_width)
    bottom, right = th - oh - image.shape[1], tw - ow - image.shape[2]
    if min(bottom, right, oh, ow) < 0:
        raise ValueError(f"target {th}x{tw} with offset ({oh}, {ow}) is smaller than the image "
                         f"({image.shape[1]}x{image.shape[2]}).")
    return F.pad(image, (0, 0, ow, right, oh, bottom))


@_batched
def resize_with_crop_or_pad(image, target_height, target_width):
    """Centre-crop or zero-pad to the target (TF puts the odd pixel at the bottom/right)."""
    th, tw = int(target_height), int(target_width)
    h, w = image.shape[1], image.shape[2]
    top, left = max((h - th) // 2, 0), max((w - tw) // 2, 0)
    image = image[:, top:top + min(h, th), left:left + min(w, tw)]
    ph, pw = max((th - h) // 2, 0), max((tw - w) // 2, 0)
    return F.pad(image, (0, 0, pw, tw - pw - image.shape[2], ph, th - ph - image.shape[1]))


def _gen(seed):
    return generator_for(seed)


def _stateless_gen(seed):
    pair = [int(s) for s in (seed.tolist() if isinstance(seed, torch.Tensor) else seed)]
    return torch.Generator().manual_seed((pair[0] * 1_000_003 + pair[1]) % 2**63)


def _uniform(n, gen):
    return torch.rand(n, generator=gen) if gen is not None else torch.rand(n)


def random_crop(value, size, seed=None, name=None):
    """A random window of `size` (same rank as `value`) from `value`."""
    return _crop(value, size, _gen(seed))


def stateless_random_crop(value, size, seed, name=None):
    return _crop(value, size, _stateless_gen(seed))


def _crop(value, size, gen):
    t = as_plain(to_tensor(value))
    size = [int(s) for s in (size.tolist() if isinstance(size, torch.Tensor) else size)]
    if len(size) != t.dim() or any(s > d for s, d in zip(size, t.shape)):
        raise ValueError(f"random_crop: size {size} must have one entry per axis of the value (shape "
                         f"{tuple(t.shape)}) and fit inside it.")
    starts = [int(_uniform(1, gen).item() * (d - s + 1)) for d, s in zip(t.shape, size)]
    return wrap(t[tuple(slice(b, b + s) for b, s in zip(starts, size))])


def _random_flip(image, axis, gen):
    t = _image(image)
    batch = t if t.dim() == 4 else t.unsqueeze(0)
    flip = _uniform(batch.shape[0], gen) < 0.5
    out = torch.where(flip.to(batch.device).view(-1, 1, 1, 1), torch.flip(batch, (axis,)), batch)
    return wrap(out if t.dim() == 4 else out.squeeze(0))


def random_flip_left_right(image, seed=None):
    return _random_flip(image, 2, _gen(seed))


def random_flip_up_down(image, seed=None):
    return _random_flip(image, 1, _gen(seed))


def stateless_random_flip_left_right(image, seed):
    return _random_flip(image, 2, _stateless_gen(seed))


def stateless_random_flip_up_down(image, seed):
    return _random_flip(image, 1, _stateless_gen(seed))


def _float_op(image, fn):
    """TF's colour ops on integer images: convert to float, apply, convert back."""
    t = as_plain(to_tensor(image))
    if t.is_floating_point():
        return wrap(fn(t))
    orig = as_dtype(t.dtype)
    return convert_image_dtype(wrap(fn(as_plain(convert_image_dtype(wrap(t), "float32")))), orig, saturate=True)


def adjust_brightness(image, delta):
    return _float_op(image, lambda t: t + float(delta))


def adjust_contrast(images, contrast_factor):
    """(x - mean) * factor + mean, the mean taken per image and channel over height and width."""
    def f(t):
        mean = t.mean(dim=(-3, -2), keepdim=True)
        return (t - mean) * float(contrast_factor) + mean
    return _float_op(images, f)


def adjust_gamma(image, gamma=1, gain=1):
    return _float_op(image, lambda t: float(gain) * t ** float(gamma))


def random_brightness(image, max_delta, seed=None):
    if max_delta < 0:
        raise ValueError("max_delta must be non-negative.")
    return adjust_brightness(image, (_uniform(1, _gen(seed)).item() * 2 - 1) * max_delta)


def stateless_random_brightness(image, max_delta, seed):
    return adjust_brightness(image, (_uniform(1, _stateless_gen(seed)).item() * 2 - 1) * max_delta)


def random_contrast(image, lower, upper, seed=None):
    if not 0 <= lower < upper:
        raise ValueError("lower must be non-negative and upper must be > lower.")
    return adjust_contrast(image, lower + _uniform(1, _gen(seed)).item() * (upper - lower))


def stateless_random_contrast(image, lower, upper, seed):
    return adjust_contrast(image, lower + _uniform(1, _stateless_gen(seed)).item() * (upper - lower))


def convert_image_dtype(image, dtype, saturate=False, name=None):
    """Integers span [0, MAX] and floats [0, 1]: converting rescales between the two, as TF does."""
    t = as_plain(to_tensor(image))
    src, dst = as_dtype(t.dtype), as_dtype(dtype)
    if src == dst:
        return wrap(t)
    if src.is_integer and dst.is_integer:
        out = t.to(torch.int64)              # TF: scale by the ratio of (max + 1)s, up or down
        if dst.max > src.max:
            out = out * ((int(dst.max) + 1) // (int(src.max) + 1))
        else:
            out = out // ((int(src.max) + 1) // (int(dst.max) + 1))
        return wrap(out.to(as_torch_dtype(dst)))
    if src.is_integer:                       # int -> float: divide by the integer's max
        return wrap(t.to(as_torch_dtype(dst)) * (1.0 / src.max))
    if dst.is_integer:                       # float -> int: scale by max + 0.5, then truncate
        scaled = t * (dst.max + 0.5)
        if saturate:
            scaled = scaled.clamp(dst.min, dst.max)
        return wrap(scaled.to(as_torch_dtype(dst)))
    return wrap(t.to(as_torch_dtype(dst)))


def per_image_standardization(image):
    """(x - mean) / max(stddev, 1/sqrt(N)) per image, N = height·width·channels; float32 out."""
    t = as_plain(to_tensor(image))
    x = t.float() if not t.is_floating_point() else t
    dims = (-3, -2, -1)
    n = x.shape[-3] * x.shape[-2] * x.shape[-1]
    mean = x.mean(dim=dims, keepdim=True)
    std = x.std(dim=dims, keepdim=True, unbiased=False)
    return wrap((x - mean) / torch.clamp(std, min=1.0 / math.sqrt(n)))


def rgb_to_grayscale(images, name=None):
    """ITU-R 601-2 luma (0.2989 R + 0.5870 G + 0.1140 B), keeping a channel axis of 1."""
    def f(t):
        weights = torch.tensor([0.2989, 0.5870, 0.1140], dtype=t.dtype, device=t.device)
        return (t * weights).sum(-1, keepdim=True)
    return _float_op(images, f)


def grayscale_to_rgb(images, name=None):
    t = as_plain(to_tensor(images))
    if t.shape[-1] != 1:
        raise ValueError(f"grayscale_to_rgb expects a last axis of 1 channel; got shape {tuple(t.shape)}.")
    return wrap(t.expand(*t.shape[:-1], 3).clone())


def _rgb_to_hsv(t):
    r, g, b = t.unbind(-1)
    v, _ = t.max(-1)
    c = v - t.min(-1).values                                   # chroma
    s = torch.where(v > 0, c / torch.where(v > 0, v, torch.ones_like(v)), torch.zeros_like(v))
    safe = torch.where(c > 0, c, torch.ones_like(c))
    h = torch.where(v == r, (g - b) / safe, torch.where(v == g, 2.0 + (b - r) / safe, 4.0 + (r - g) / safe))
    h = torch.where(c > 0, torch.remainder(h / 6.0, 1.0), torch.zeros_like(h))
    return torch.stack([h, s, v], -1)


def _hsv_to_rgb(t):
    h, s, v = t.unbind(-1)

    def channel(n):                            # f(n) = v - v·s·clamp(min(k, 4 - k), 0, 1), k = (n + 6h) mod 6
        k = torch.remainder(n + h * 6.0, 6.0)
        return v - v * s * torch.clamp(torch.minimum(k, 4.0 - k), 0.0, 1.0)
    return torch.stack([channel(5.0), channel(3.0), channel(1.0)], -1)


def rgb_to_hsv(images, name=None):
    return wrap(_rgb_to_hsv(as_plain(to_tensor(images)).float()))


def hsv_to_rgb(images, name=None):
    return wrap(_hsv_to_rgb(as_plain(to_tensor(images)).float()))


def adjust_saturation(image, saturation_factor, name=None):
    """Saturation times `saturation_factor` (clipped to [0, 1]) in HSV, as TF does."""
    def f(t):
        hsv = _rgb_to_hsv(t)
        hsv = torch.stack([hsv[..., 0], (hsv[..., 1] * float(saturation_factor)).clamp(0.0, 1.0), hsv[..., 2]], -1)
        return _hsv_to_rgb(hsv)
    return _float_op(image, f)


def adjust_hue(image, delta, name=None):
    """Hue rotated by `delta` (a fraction of the colour circle, in [-1, 1])."""
    if not -1.0 <= float(delta) <= 1.0:
        raise ValueError(f"delta must be in the interval [-1, 1]; got {delta}.")

    def f(t):
        hsv = _rgb_to_hsv(t)
        hsv = torch.stack([torch.remainder(hsv[..., 0] + float(delta), 1.0), hsv[..., 1], hsv[..., 2]], -1)
        return _hsv_to_rgb(hsv)
    return _float_op(image, f)


def random_saturation(image, lower, upper, seed=None):
    if not 0 <= lower < upper:
        raise ValueError("lower must be non-negative and upper must be > lower.")
    return adjust_saturation(image, lower + _uniform(1, _gen(seed)).item() * (upper - lower))


def stateless_random_saturation(image, lower, upper, seed):
    return adjust_saturation(image, lower + _uniform(1, _stateless_gen(seed)).item() * (upper - lower))


def random_hue(image, max_delta, seed=None):
    if not 0 <= max_delta <= 0.5:
        raise ValueError("max_delta must be in the interval [0, 0.5].")
    return adjust_hue(image, (_uniform(1, _gen(seed)).item() * 2 - 1) * max_delta)


def stateless_random_hue(image, max_delta, seed):
    return adjust_hue(image, (_uniform(1, _stateless_gen(seed)).item() * 2 - 1) * max_delta)
