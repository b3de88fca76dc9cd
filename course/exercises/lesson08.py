"""Checks for lesson 08, initialisation: Keras fans, glorot_uniform, he_normal, Keras-style init of torch layers.

Samplers are checked statistically on large draws (bounds, standard deviation, mean, shape of the
distribution) with tolerances far outside sampling noise, against Keras' formulas and torch's own
fan computation (`torch.nn.init._calculate_fan_in_and_fan_out` on the same kernel in torch's layout).
"""
import math

import torch

from course.exercises.expect import CheckFailure, expect_equal
from course.exercises.fixtures import Fixture
from course.exercises.registry import exercise
from course.exercises.remote import RemoteObject, current
from course.exercises.seeding import numpy_rng

__all__ = []

TRUNCATED_NORMAL_STD = 0.87962566103423978      # std of N(0, 1) cut at ±2

_SHAPES = [(784, 128), (128, 10), (300, 300), (3, 3, 1, 32), (5, 5, 32, 64), (3, 3, 64, 64), (7, 7, 3, 16),
           (2, 3, 4, 5, 6), (100,)]


def _torch_fans(shape):
    """(fan_in, fan_out) by torch's rule, after moving a Keras kernel into torch's layout."""
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        w = torch.empty(shape[1], shape[0])                             # Linear weight (out, in)
    else:
        w = torch.empty(shape[-1], shape[-2], *shape[:-2])              # Conv weight (out, in, *kernel)
    return torch.nn.init._calculate_fan_in_and_fan_out(w)


# -- 8.1 -------------------------------------------------------------------------------------

@exercise("8.1", name="compute_fans", points=1)
def _check_compute_fans(compute_fans):
    """Keras' fans: (in, out) for dense kernels, r·in and r·out with r = h·w for conv kernels."""
    for shape in _SHAPES:
        got = compute_fans(shape)
        expected = tuple(int(n) for n in _torch_fans(shape))
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            raise CheckFailure(f"compute_fans({shape}): expected a pair (fan_in, fan_out), got {got!r}.")
        try:
            got = (int(got[0]), int(got[1]))
        except (TypeError, ValueError):
            raise CheckFailure(f"compute_fans({shape}): expected two integers, got {got!r}.") from None
        if got != expected:
            hint = ""
            if got == expected[::-1]:
                hint = " (fan_in and fan_out swapped: a Keras kernel is (..., in, out))"
            elif len(shape) > 2 and got == (shape[-2], shape[-1]):
                hint = (" (the receptive field is missing: each output of a conv layer sees h·w·in inputs, "
                        "so multiply by h·w)")
            elif len(shape) > 2 and got == (shape[1] * shape[0], shape[0] * shape[1]):
                hint = " (looks like torch's layout (out, in, h, w); Keras kernels are (h, w, in, out))"
            expect_equal(got, expected, what=f"compute_fans({shape}){hint}")


# -- samplers --------------------------------------------------------------------------------

def _draw(fn, shape, seed, name):
    call = f"{name}({shape})"
    try:
        x = fn(shape, generator=Fixture("torch_generator", seed))
    except TypeError as exc:
        if "generator" in str(exc):
            raise CheckFailure(f"{call}: your function does not accept the keyword argument generator=; "
                               f"keep the signature {name}(shape, generator=None).") from None
        raise
    if not isinstance(x, torch.Tensor):
        raise CheckFailure(f"{call}: expected a torch.Tensor, got {type(x).__name__}.")
    if tuple(x.shape) != tuple(shape):
        raise CheckFailure(f"{call}: shape: expected {tuple(shape)}, got {tuple(x.shape)}.")
    if x.dtype != torch.float32:
        raise CheckFailure(f"{call}: dtype: expected float32 (Keras' floatx), got {x.dtype}.")
    if not torch.isfinite(x).all():
        raise CheckFailure(f"{call}: the result contains inf or nan.")
    return x.detach().double().reshape(-1)


def _reproducible(fn, shape, name):
    seed = int(numpy_rng(80).integers(2**31))
    a = fn(shape, generator=Fixture("torch_generator", seed))
    b = fn(shape, generator=Fixture("torch_generator", seed))
    c = fn(shape, generator=Fixture("torch_generator", seed + 1))
    if not all(isinstance(t, torch.Tensor) for t in (a, b, c)):
        raise CheckFailure(f"{name}({shape}, generator=g): expected torch tensors.")
    if not torch.equal(a, b):
        raise CheckFailure(f"{name}({shape}, generator=g): two generators with the same seed gave different "
                           f"values; pass generator=generator to the torch sampling call "
                           f"(e.g. tensor.uniform_(a, b, generator=generator)).")
    if torch.equal(a, c):
        raise CheckFailure(f"{name}({shape}): different seeds gave the same values; the weights must be random.")


def _mean_ok(x, sigma, call):
    n = x.numel()
    if abs(x.mean().item()) > 6 * sigma / math.sqrt(n):
        raise CheckFailure(f"{call}: the mean is {x.mean().item():.4g}; expected about 0 (weights are centred).")


# -- 8.2 -------------------------------------------------------------------------------------

@exercise("8.2", name="glorot_uniform", points=2)
def _check_glorot_uniform(glorot_uniform):
    """U(-limit, limit), limit = sqrt(6 / (fan_in + fan_out)), Keras fans."""
    for k, shape in enumerate([(784, 128), (5, 5, 32, 64), (300, 300), (3, 3, 64, 64)]):
        fan_in, fan_out = _torch_fans(shape)
        limit = math.sqrt(6.0 / (fan_in + fan_out))
        call = f"glorot_uniform({shape})"
        x = _draw(glorot_uniform, shape, int(numpy_rng(82).integers(2**31)) + k, "glorot_uniform")
        top = x.abs().max().item()
        std = x.std().item()
        candidates = {
            "sqrt(6 / fan_in), he_uniform's limit (Glorot uses both fans)": math.sqrt(6.0 / fan_in),
            "1 / sqrt(fan_in), torch's nn.Linear default bound": 1.0 / math.sqrt(fan_in),
            "sqrt(2 / (fan_in + fan_out)), the standard deviation, not the limit": math.sqrt(2.0 / (fan_in + fan_out)),
            "sqrt(6 / (shape[-2] + shape[-1])): conv fans need the receptive field h·w":
                math.sqrt(6.0 / (shape[-2] + shape[-1])),
        }
        if top > limit * (1 + 1e-6):
            for why, value in candidates.items():
                if abs(top - value) < 0.02 * value and abs(value - limit) > 0.05 * limit:
                    raise CheckFailure(f"{call}: your largest |value| is {top:.4g}, about {why}; "
                                       f"expected limit = sqrt(6 / (fan_in + fan_out)) = {limit:.4g}.")
            raise CheckFailure(f"{call}: a value of size {top:.4g} lies outside [-limit, limit] with "
                               f"limit = sqrt(6 / (fan_in + fan_out)) = {limit:.4g} (fan_in={fan_in}, "
                               f"fan_out={fan_out}).")
        if top < 0.98 * limit:
            for why, value in candidates.items():
                if abs(top - value) < 0.02 * value and abs(value - limit) > 0.05 * limit:
                    raise CheckFailure(f"{call}: your largest |value| is {top:.4g}, about {why}; "
                                       f"expected limit = sqrt(6 / (fan_in + fan_out)) = {limit:.4g}.")
            raise CheckFailure(f"{call}: the values stay within ±{top:.4g}; with {x.numel()} draws from "
                               f"U(-limit, limit) some should come close to limit = {limit:.4g}.")
        expected_std = limit / math.sqrt(3.0)
        if abs(std / expected_std - 1) > 0.03:
            raise CheckFailure(f"{call}: standard deviation {std:.4g}, expected limit/sqrt(3) = {expected_std:.4g} "
                               f"for a uniform distribution.")
        _mean_ok(x, expected_std, call)
        inner = (x.abs() < limit / 2).double().mean().item()          # 0.5 for a uniform, 0.61 for a normal
        if abs(inner - 0.5) > 0.03:
            raise CheckFailure(f"{call}: {inner:.1%} of the values lie within ±limit/2; a uniform distribution "
                               f"puts 50% there. Draw from U(-limit, limit), e.g. with tensor.uniform_.")
    _reproducible(glorot_uniform, (64, 32), "glorot_uniform")


# -- 8.3 -------------------------------------------------------------------------------------

@exercise("8.3", name="he_normal", points=2)
def _check_he_normal(he_normal):
    """Keras' he_normal: N(0, σ²) truncated at ±2σ, σ = sqrt(2 / fan_in) / 0.8796, std sqrt(2 / fan_in)."""
    for k, shape in enumerate([(784, 128), (5, 5, 32, 64), (300, 300), (3, 3, 64, 64)]):
        fan_in, _ = _torch_fans(shape)
        target = math.sqrt(2.0 / fan_in)                     # the std of the result
        sigma = target / TRUNCATED_NORMAL_STD                # the std before truncation
        call = f"he_normal({shape})"
        x = _draw(he_normal, shape, int(numpy_rng(83).integers(2**31)) + k, "he_normal")
        top = x.abs().max().item()
        std = x.std().item()
        if top > 2 * sigma * (1 + 1e-5):
            if abs(std / target - 1) < 0.03:
                raise CheckFailure(f"{call}: values reach {top:.4g}, beyond the cut at 2σ = {2 * sigma:.4g}. "
                                   f"Keras' he_normal is a *truncated* normal (as tf.keras uses); "
                                   f"torch.nn.init.kaiming_normal_ is not. Use torch.nn.init.trunc_normal_.")
            raise CheckFailure(f"{call}: values reach {top:.4g}, beyond the cut at 2σ = {2 * sigma:.4g} "
                               f"(σ = sqrt(2 / fan_in) / 0.8796 with fan_in = {fan_in}).")
        if abs(std / target - 1) > 0.03:
            hint = ""
            if abs(std / (target * TRUNCATED_NORMAL_STD) - 1) < 0.03:
                hint = (" It is 0.88 times too small: truncating at ±2σ removes spread, so Keras draws with "
                        "σ = sqrt(2 / fan_in) / 0.87962566103423978.")
            elif abs(std / math.sqrt(2.0 / _torch_fans(shape)[1]) - 1) < 0.03 and fan_in != _torch_fans(shape)[1]:
                hint = " That matches fan_out; He initialisation divides by fan_in."
            raise CheckFailure(f"{call}: standard deviation {std:.4g}, expected sqrt(2 / fan_in) = {target:.4g} "
                               f"(fan_in = {fan_in}).{hint}")
        if top < 1.9 * sigma:
            raise CheckFailure(f"{call}: all values lie within ±{top:.4g}; a normal truncated at ±2σ = "
                               f"{2 * sigma:.4g} should come close to its cut with {x.numel()} draws.")
        _mean_ok(x, target, call)
        inner = (x.abs() < sigma).double().mean().item()     # P(|z| < 1 | |z| < 2) = 0.7160
        if abs(inner - 0.7160) > 0.03:
            raise CheckFailure(f"{call}: {inner:.1%} of the values lie within ±σ; a normal truncated at ±2σ "
                               f"puts 71.6% there. Draw from a (truncated) normal distribution.")
    _reproducible(he_normal, (64, 32), "he_normal")


# -- 8.4 -------------------------------------------------------------------------------------

def _counting_initializer(shape, dtype=torch.float32):
    return Fixture("counting_initializer").local()(shape, dtype)


@exercise("8.4", name="keras_init_", points=2)
def _check_keras_init(keras_init_):
    """Initialise every nn.Linear / nn.Conv2d of a model the Keras way, in place: the kernel is drawn
    in Keras' layout by `kernel_initializer` and moved into torch's; biases become zeros."""
    # The model stays on the learner's side; its layers' weights come back as arrays.
    model = current().make(Fixture("torch_conv_net"))
    convs = [m for m in model.modules() if isinstance(m, RemoteObject) and m.remote_isinstance(
        "torch.nn.modules.conv.Conv2d", "torch.nn.modules.linear.Linear")]
    before = [layer.weight.detach() for layer in convs]
    result = keras_init_(model, Fixture("counting_initializer"))
    if result is not None and not (isinstance(result, RemoteObject) and result._id == model._id):
        raise CheckFailure("keras_init_(model, kernel_initializer): initialise the model in place and return "
                           f"nothing (or the model itself); got {type(result).__name__}.")
    for i, layer in enumerate(convs):
        weight = layer.weight
        w = weight.detach() if isinstance(weight, torch.Tensor) else weight
        if not isinstance(w, torch.Tensor):
            raise CheckFailure(f"layer {i}: the weight should stay a tensor; got {type(w).__name__}.")
        if layer.remote_isinstance("torch.nn.modules.linear.Linear"):
            keras_shape = (w.shape[1], w.shape[0])                          # (in, out)
            expected = _counting_initializer(keras_shape).T                  # (out, in)
            layout = "a Linear weight is (out, in), the Keras kernel (in, out): transpose it"
        else:
            keras_shape = (w.shape[2], w.shape[3], w.shape[1], w.shape[0])   # (h, w, in, out)
            expected = _counting_initializer(keras_shape).permute(3, 2, 0, 1)  # (out, in, h, w)
            layout = ("a Conv2d weight is (out, in, h, w), the Keras kernel (h, w, in, out): "
                      "call the initializer with (h, w, in, out) and permute(3, 2, 0, 1)")
        what = f"layer {i} ({layer.remote_type.rsplit('.', 1)[-1]}, weight {tuple(w.shape)})"
        if w.shape == before[i].shape and torch.equal(w, before[i]):
            raise CheckFailure(f"{what}: the weight did not change; copy the new kernel into it in place "
                               f"(with torch.no_grad(): layer.weight.copy_(...)).")
        if not torch.equal(w, expected.to(w.dtype)):
            if tuple(w.shape) == tuple(expected.shape) and set(w.reshape(-1).tolist()) == set(
                    expected.reshape(-1).tolist()):
                raise CheckFailure(f"{what}: the right values in the wrong places; {layout}.")
            raise CheckFailure(f"{what}: expected the kernel kernel_initializer{keras_shape} moved into torch's "
                               f"layout; {layout}. (The check passes an initializer that returns 1, 2, 3, ... "
                               f"so that every element's place can be followed.)")
        bias = layer.bias
        zeros = isinstance(bias, torch.Tensor) and torch.equal(bias.detach(), torch.zeros_like(bias))
        if bias is not None and not zeros:
            raise CheckFailure(f"{what}: the bias should be zeros (Keras' bias_initializer='zeros').")
        if not isinstance(weight, torch.nn.Parameter) or not weight.requires_grad:
            raise CheckFailure(f"{what}: the weight must stay a trainable nn.Parameter; change its values "
                               f"in place instead of replacing it.")
    # With a real initializer the weights get He statistics computed from the *Keras* fans.
    model = current().make(Fixture("torch_linear_conv"))
    keras_init_(model, Fixture("he_normal_initializer"))
    for index, kind, fan_in in ((0, "Linear", 400), (1, "Conv2d", 16 * 25)):
        weight = model[index].weight
        expect_equal(isinstance(weight, torch.Tensor), True, what=f"keras_init_(model, HeNormal()): the {kind} "
                     f"weight is a tensor")
        std = weight.detach().double().std().item()
        if abs(std / math.sqrt(2.0 / fan_in) - 1) > 0.05:
            raise CheckFailure(f"keras_init_(model, HeNormal()): {kind} weight "
                               f"{tuple(weight.shape)} has std {std:.4g}, expected sqrt(2 / fan_in) = "
                               f"{math.sqrt(2.0 / fan_in):.4g} with Keras' fan_in = {fan_in}.")
