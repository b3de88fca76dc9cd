"""Weight initialisers with Keras 3's rules, returning torch tensors.

Every initialiser is an object called as

    init(shape, dtype=torch.float32, *, generator=None, device=None) -> torch.Tensor

Keras-style classes (`GlorotUniform(seed=None)`, `RandomNormal(mean, stddev, seed)`, ...) build
them; ready-made instances carry Keras' string names (`glorot_uniform`, `zeros`, `he_normal`, ...),
and `constant(value)`, `random_normal(...)`, `random_uniform(...)`, `truncated_normal(...)` build
parameterised ones. `get("glorot_uniform")` maps Keras strings (and configs) to initialisers.

Fans follow Keras (`compute_fans`): a dense kernel (in, out) has fan_in = in, fan_out = out; a conv
kernel (h, w, in, out) has receptive field r = h·w, fan_in = r·in, fan_out = r·out; a vector (n,)
has fan_in = fan_out = n. Variance scaling with scale s and n the chosen fan:

    uniform             U(-limit, limit),   limit = sqrt(3·s / n)
    truncated_normal    N(0, σ²) cut at ±2σ, σ = sqrt(s / n) / 0.87962566103423978
                        (0.8796... is the std of a standard normal truncated at ±2: the result has
                        std sqrt(s / n))
    untruncated_normal  N(0, s / n)

Randomness: `generator` (a torch.Generator) if given; else, with an integer `seed`, a fresh CPU
generator seeded with it, so a seeded initialiser returns the same values on every call and
every device (as Keras 3's seeded initialisers do); else torch's global generator (seed it with
`course.device.seed(n)`). We do not reproduce TensorFlow's random numbers, only the distributions.
"""
import math

import torch

import course.device
from course.framework.identifiers import Registry

__all__ = ["Initializer", "Zeros", "Ones", "Constant", "RandomNormal", "RandomUniform", "TruncatedNormal",
           "VarianceScaling", "GlorotNormal", "GlorotUniform", "HeNormal", "HeUniform", "LecunNormal",
           "LecunUniform", "Orthogonal", "compute_fans", "zeros", "ones", "glorot_normal", "glorot_uniform",
           "he_normal", "he_uniform", "lecun_normal", "lecun_uniform", "constant", "random_normal",
           "random_uniform", "truncated_normal", "get", "INITIALIZERS", "TRUNCATED_NORMAL_STD"]

TRUNCATED_NORMAL_STD = 0.87962566103423978   # std of N(0, 1) truncated to [-2, 2]


def compute_fans(shape):
    """(fan_in, fan_out) for a weight shape, by Keras' rules (see the module docstring)."""
    shape = tuple(int(d) for d in shape)
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = math.prod(shape[:-2])          # (h, w, in, out): r = h·w
    return shape[-2] * receptive, shape[-1] * receptive


def _dtype(dtype):
    if dtype is None:
        return torch.float32
    if isinstance(dtype, torch.dtype):
        return dtype
    name = getattr(dtype, "name", None) or str(dtype)        # "float32", numpy dtypes, tf-like names
    found = getattr(torch, name.replace("tf.", ""), None)
    if not isinstance(found, torch.dtype):
        raise TypeError(f"Unknown dtype {dtype!r}; use a torch dtype or a name such as 'float32'.")
    return found


def _shape(shape, who):
    if isinstance(shape, int):
        return (shape,)
    try:
        return tuple(int(d) for d in shape)
    except TypeError:
        raise TypeError(f"{who} expects a shape (a tuple of ints) as its first argument; got "
                        f"{shape!r}.") from None


class Initializer:
    """Base class: subclasses define `sample(shape, dtype, generator, device)`."""

    seed = None

    def __call__(self, shape, dtype=torch.float32, *, generator=None, device=None):
        shape, dtype = _shape(shape, type(self).__name__), _dtype(dtype)
        device = torch.device(device) if device is not None else course.device.get()
        if generator is None and self.seed is not None:
            generator = torch.Generator().manual_seed(int(self.seed))
        if generator is None:
            return self.sample(shape, dtype, None, device)
        return self.sample(shape, dtype, generator, generator.device).to(device)

    def sample(self, shape, dtype, generator, device):
        raise NotImplementedError

    def get_config(self) -> dict:
        return dict(vars(self))

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.get_config().items())})"


class Zeros(Initializer):
    """All zeros (Keras' default for biases)."""

    def sample(self, shape, dtype, generator, device):
        return torch.zeros(shape, dtype=dtype, device=device)


class Ones(Initializer):
    """All ones (Keras' default for BatchNormalization's gamma)."""

    def sample(self, shape, dtype, generator, device):
        return torch.ones(shape, dtype=dtype, device=device)


class Constant(Initializer):
    """Every element equal to `value`."""

    def __init__(self, value=0.0):
        self.value = value

    def sample(self, shape, dtype, generator, device):
        return torch.full(shape, float(self.value), dtype=dtype, device=device)


class RandomNormal(Initializer):
    """N(mean, stddev²); Keras defaults mean=0, stddev=0.05."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean, self.stddev, self.seed = mean, stddev, seed

    def sample(self, shape, dtype, generator, device):
        x = torch.empty(shape, dtype=dtype, device=device)
        return x.normal_(self.mean, self.stddev, generator=generator)


class RandomUniform(Initializer):
    """U(minval, maxval); Keras defaults -0.05, 0.05."""

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        self.minval, self.maxval, self.seed = minval, maxval, seed

    def sample(self, shape, dtype, generator, device):
        x = torch.empty(shape, dtype=dtype, device=device)
        return x.uniform_(self.minval, self.maxval, generator=generator)


class TruncatedNormal(Initializer):
    """N(mean, stddev²) restricted to mean ± 2·stddev (Keras redraws values beyond; the result has
    this same distribution, whose std is 0.8796·stddev); Keras defaults mean=0, stddev=0.05."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean, self.stddev, self.seed = mean, stddev, seed

    def sample(self, shape, dtype, generator, device):
        x = torch.empty(shape, dtype=dtype, device=device)
        m, s = self.mean, self.stddev
        return torch.nn.init.trunc_normal_(x, m, s, m - 2 * s, m + 2 * s, generator=generator)


class VarianceScaling(Initializer):
    """Scale s divided by a fan: see the module docstring for limit and σ. `mode` is "fan_in",
    "fan_out" or "fan_avg"; `distribution` is "truncated_normal" (alias "normal"),
    "untruncated_normal" or "uniform"."""

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None):
        if scale <= 0:
            raise ValueError(f"VarianceScaling: scale must be positive; got {scale}.")
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(f"VarianceScaling: mode must be 'fan_in', 'fan_out' or 'fan_avg'; got {mode!r}.")
        distribution = distribution.lower()
        distribution = "truncated_normal" if distribution == "normal" else distribution
        if distribution not in ("truncated_normal", "untruncated_normal", "uniform"):
            raise ValueError("VarianceScaling: distribution must be 'truncated_normal', 'untruncated_normal' "
                             f"or 'uniform'; got {distribution!r}.")
        self.scale, self.mode, self.distribution, self.seed = scale, mode, distribution, seed

    def spread(self, shape):
        """("limit", value) for uniform, ("stddev", σ) for the normals: the numbers Keras computes."""
        fan_in, fan_out = compute_fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[self.mode]
        s = self.scale / max(1.0, n)
        if self.distribution == "uniform":
            return "limit", math.sqrt(3.0 * s)                          # limit = sqrt(3·s/n)
        if self.distribution == "truncated_normal":
            return "stddev", math.sqrt(s) / TRUNCATED_NORMAL_STD        # σ = sqrt(s/n) / 0.8796
        return "stddev", math.sqrt(s)

    def sample(self, shape, dtype, generator, device):
        kind, value = self.spread(shape)
        x = torch.empty(shape, dtype=dtype, device=device)
        if kind == "limit":
            return x.uniform_(-value, value, generator=generator)
        if self.distribution == "truncated_normal":
            return torch.nn.init.trunc_normal_(x, 0.0, value, -2 * value, 2 * value, generator=generator)
        return x.normal_(0.0, value, generator=generator)

    def get_config(self):
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution, "seed": self.seed}


def _variance_scaling(name, scale, mode, distribution, doc):
    def __init__(self, seed=None):
        VarianceScaling.__init__(self, scale, mode, distribution, seed)

    def get_config(self):
        return {"seed": self.seed}

    return type(name, (VarianceScaling,), {"__init__": __init__, "get_config": get_config, "__doc__": doc,
                                            "__module__": __name__})


GlorotUniform = _variance_scaling("GlorotUniform", 1.0, "fan_avg", "uniform",
                                  "U(-limit, limit), limit = sqrt(6 / (fan_in + fan_out)); Keras' default kernel.")
GlorotNormal = _variance_scaling("GlorotNormal", 1.0, "fan_avg", "truncated_normal",
                                 "Truncated normal with std sqrt(2 / (fan_in + fan_out)).")
HeUniform = _variance_scaling("HeUniform", 2.0, "fan_in", "uniform", "U(-limit, limit), limit = sqrt(6 / fan_in).")
HeNormal = _variance_scaling("HeNormal", 2.0, "fan_in", "truncated_normal",
                             "Truncated normal with std sqrt(2 / fan_in).")
LecunUniform = _variance_scaling("LecunUniform", 1.0, "fan_in", "uniform",
                                 "U(-limit, limit), limit = sqrt(3 / fan_in).")
LecunNormal = _variance_scaling("LecunNormal", 1.0, "fan_in", "truncated_normal",
                                "Truncated normal with std sqrt(1 / fan_in).")


class Orthogonal(Initializer):
    """An orthogonal matrix (QR of a Gaussian matrix, signs fixed by diag(R)) times `gain`; a
    kernel of rank > 2 is treated as (prod(shape[:-1]), shape[-1]), as Keras does."""

    def __init__(self, gain=1.0, seed=None):
        self.gain, self.seed = gain, seed

    def sample(self, shape, dtype, generator, device):
        if len(shape) < 2:
            raise ValueError(f"Orthogonal needs a shape of rank >= 2; got {shape}.")
        rows, cols = math.prod(shape[:-1]), shape[-1]
        a = torch.randn(max(rows, cols), min(rows, cols), dtype=torch.float32, device=device,
                        generator=generator)                                        # (big, small)
        q, r = torch.linalg.qr(a)
        q = q * torch.sign(torch.diagonal(r))
        if rows < cols:
            q = q.T
        return (self.gain * q).reshape(shape).to(dtype)


# -- ready-made instances and builders, under Keras' names ------------------------------------
zeros, ones = Zeros(), Ones()
glorot_uniform, glorot_normal = GlorotUniform(), GlorotNormal()
he_uniform, he_normal = HeUniform(), HeNormal()
lecun_uniform, lecun_normal = LecunUniform(), LecunNormal()


def _no_shape(value, who):
    if isinstance(value, (tuple, list, torch.Size)):
        raise TypeError(f"{who}(...) builds an initializer; call the result with the shape, e.g. "
                        f"{who}()({tuple(value)}).")


def constant(value=0.0):
    """An initializer filling every element with `value`."""
    _no_shape(value, "constant")
    return Constant(value)


def random_normal(mean=0.0, stddev=0.05, seed=None):
    """An initializer drawing from N(mean, stddev²)."""
    _no_shape(mean, "random_normal")
    return RandomNormal(mean, stddev, seed)


def random_uniform(minval=-0.05, maxval=0.05, seed=None):
    """An initializer drawing from U(minval, maxval)."""
    _no_shape(minval, "random_uniform")
    return RandomUniform(minval, maxval, seed)


def truncated_normal(mean=0.0, stddev=0.05, seed=None):
    """An initializer drawing from N(mean, stddev²) cut at mean ± 2·stddev."""
    _no_shape(mean, "truncated_normal")
    return TruncatedNormal(mean, stddev, seed)


_CLASSES = {c.__name__: c for c in (Zeros, Ones, Constant, RandomNormal, RandomUniform, TruncatedNormal,
                                    VarianceScaling, GlorotNormal, GlorotUniform, HeNormal, HeUniform,
                                    LecunNormal, LecunUniform, Orthogonal)}
_SNAKE = {"zeros": Zeros, "ones": Ones, "constant": Constant, "random_normal": RandomNormal,
          "random_uniform": RandomUniform, "truncated_normal": TruncatedNormal,
          "variance_scaling": VarianceScaling, "glorot_normal": GlorotNormal, "glorot_uniform": GlorotUniform,
          "he_normal": HeNormal, "he_uniform": HeUniform, "lecun_normal": LecunNormal,
          "lecun_uniform": LecunUniform, "orthogonal": Orthogonal,
          "normal": RandomNormal, "uniform": RandomUniform, "zero": Zeros, "one": Ones}   # Keras' aliases


INITIALIZERS = Registry("initializer", {**_SNAKE, **_CLASSES}, classes={**_SNAKE, **_CLASSES}, base=Initializer,
                        from_config=lambda cls, config: cls(**config))


def get(identifier):
    """An initializer from a Keras name ('glorot_uniform', 'GlorotUniform', 'zeros', 'he_normal',
    ...), a config dict {"class_name": ..., "config": {...}}, or a callable (returned as is)."""
    return INITIALIZERS.get(identifier)
