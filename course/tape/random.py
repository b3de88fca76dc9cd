"""Random tensors and seeds: `tf.random.*`, `tf.random.set_seed`, `keras.utils.set_random_seed`.

The numbers come from torch's generators, not TensorFlow's (the same seed gives different values
than TF, but the same values on every run). Seeds follow TensorFlow's rules:
- no seeds: torch's global generator (seeded by `set_global_seed` / `set_seed`);
- an op seed (`seed=1`): a generator of its own for that (global seed, op seed) pair, created on
  first use and advanced by each call, so a program's sequence repeats from run to run while two
  calls in one run still differ -- as TF's eager mode does.
`set_seed(n)` seeds torch, numpy and Python's `random` (what `keras.utils.set_random_seed` does);
`set_global_seed(n)` seeds torch only (what `tf.random.set_seed` does: numpy is not TF's).
"""
import torch

import course.device
from course.tape.creation import as_shape_arg
from course.framework.dtypes import as_torch_dtype
from course.tape.tensor import to_tensor, wrap

__all__ = ["set_seed", "set_global_seed", "get_global_seed", "generator_for", "draw_seed", "normal", "uniform",
           "truncated_normal", "shuffle", "categorical"]

_DEFAULT_GLOBAL_SEED = 87654321      # TF's seed when only an op seed is given
_global_seed = None
_op_generators = {}                   # (global seed, op seed) -> torch.Generator (CPU)


def set_global_seed(seed):
    """`tf.random.set_seed`: seed torch's generators (CPU and GPUs) and restart op-seeded sequences."""
    global _global_seed
    _global_seed = None if seed is None else int(seed)
    _op_generators.clear()
    if seed is not None:
        torch.manual_seed(int(seed))


def set_seed(seed):
    """Seed torch, numpy and Python's `random` at once (`keras.utils.set_random_seed`)."""
    set_global_seed(seed)
    course.device.seed(int(seed))


def get_global_seed():
    return _global_seed


def generator_for(seed):
    """None for `seed=None` (use torch's global generator); else the CPU generator for that op seed."""
    if seed is None:
        return None
    key = (_global_seed if _global_seed is not None else _DEFAULT_GLOBAL_SEED, int(seed))
    gen = _op_generators.get(key)
    if gen is None:
        gen = _op_generators[key] = torch.Generator().manual_seed(hash(key) % (2**63))
    return gen


def draw_seed(seed=None) -> int:
    """A seed for a stateful consumer (a dataset shuffle): fixed by (global seed, `seed`) when `seed` is
    given, else drawn from torch's global generator (so `tf.random.set_seed` makes it repeatable)."""
    if seed is not None:
        return hash((_global_seed if _global_seed is not None else _DEFAULT_GLOBAL_SEED, int(seed))) % 2**62
    return int(torch.randint(0, 2**62, (1,)).item())


def _sample(shape, dtype, seed, fn):
    """fn(shape, generator, device, dtype) on the device (global generator) or the CPU (op generator)."""
    gen = generator_for(seed)
    device = course.device.get()
    want = as_torch_dtype(dtype)
    if gen is None:
        return wrap(fn(as_shape_arg(shape), None, device, want))
    return wrap(fn(as_shape_arg(shape), gen, torch.device("cpu"), want).to(device))


def normal(shape, mean=0.0, stddev=1.0, dtype=torch.float32, seed=None, name=None):
    """Samples of N(mean, stddev**2)."""
    def fn(shape, gen, device, dtype):
        z = torch.randn(shape, generator=gen, device=device, dtype=dtype)
        return z * stddev + mean if (stddev != 1.0 or mean != 0.0) else z
    return _sample(shape, dtype, seed, fn)


def uniform(shape, minval=0, maxval=None, dtype=torch.float32, seed=None, name=None):
    """Samples of U[minval, maxval) (maxval defaults to 1 for floats; integers need it)."""
    want = as_torch_dtype(dtype)
    if not want.is_floating_point and maxval is None:
        raise ValueError(f"tf.random.uniform with an integer dtype ({want}) needs maxval.")
    hi = 1.0 if maxval is None else maxval

    def fn(shape, gen, device, dtype):
        if dtype.is_floating_point:
            u = torch.rand(shape, generator=gen, device=device, dtype=dtype)
            lo_t = to_tensor(minval, dtype, device=device)
            return u * (to_tensor(hi, dtype, device=device) - lo_t) + lo_t
        return torch.randint(int(minval), int(hi), shape, generator=gen, device=device, dtype=dtype)
    return _sample(shape, dtype, seed, fn)


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=torch.float32, seed=None, name=None):
    """N(mean, stddev**2) with samples beyond 2 standard deviations drawn again."""
    def fn(shape, gen, device, dtype):
        t = torch.empty(shape, device=device, dtype=dtype)
        torch.nn.init.trunc_normal_(t, 0.0, 1.0, -2.0, 2.0, generator=gen)
        return t * stddev + mean
    return _sample(shape, dtype, seed, fn)


def shuffle(value, seed=None, name=None):
    """A random permutation of `value` along its first axis."""
    t = to_tensor(value)
    gen = generator_for(seed)
    perm = torch.randperm(t.shape[0], generator=gen, device="cpu" if gen is not None else t.device)
    return wrap(t[perm.to(t.device)])


def categorical(logits, num_samples, dtype=None, seed=None, name=None):
    """(batch, num_samples) class indices drawn from softmax(logits) per row (int64)."""
    z = to_tensor(logits).float()
    gen = generator_for(seed)
    p = torch.softmax(z, dim=-1)
    out = torch.multinomial(p if gen is None else p.cpu(), int(num_samples), replacement=True, generator=gen)
    return wrap(out.to(z.device, as_torch_dtype(dtype) if dtype is not None else torch.int64))
