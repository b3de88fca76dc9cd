"""Seeded random ops that give TensorFlow's numbers: random_normal, truncated_normal, random_uniform.

Seeds follow TF1's rules (`get_seed`):
    graph seed set (tf.set_random_seed) and op seed given -> (graph seed, op seed)
    graph seed only   -> op seeds 0, 1, 2, ... from a per-graph counter, in creation order
    op seed only      -> (87654321, op seed)            TF's DEFAULT_GRAPH_SEED
    neither           -> a fresh random pair per session (not reproducible)
The kernels draw from `course.graph.philox` exactly as TF's CPU kernels do, so
`tf.random_normal([2, 3], stddev=1, seed=1)` holds the same values here and in TensorFlow.
Running the op again in the same session continues its stream; a new session restarts it.
"""
import math
import secrets

import torch

from course.data import tf1_mnist
from course.framework import dtypes as _dt
from course.graph import philox
from course.graph.array_ops import constant, convert_to_tensor, holds_tensor, make_op, partial_shape_value
from course.graph.graph import get_default_graph
from course.graph.math_ops import add, multiply, subtract
from course.graph.registry import NotDifferentiable, one_output, register_op
from course.framework.shapes import TensorShape

__all__ = ["set_random_seed", "get_seed", "random_normal", "truncated_normal", "random_uniform", "DEFAULT_GRAPH_SEED"]

DEFAULT_GRAPH_SEED = 87654321
_MAXINT32 = 2**31 - 1


def set_random_seed(seed):
    """Set the default graph's seed (TF1's graph-level seed)."""
    get_default_graph().seed = seed


def get_seed(op_seed):
    """(seed, seed2) for a random op, by TF1's rules (see the module docstring)."""
    g = get_default_graph()
    if g.seed is not None:
        if op_seed is None:
            op_seed = g._seed_counter
            g._seed_counter += 1
        seeds = (g.seed % _MAXINT32, op_seed % _MAXINT32)
    elif op_seed is not None:
        seeds = (DEFAULT_GRAPH_SEED, op_seed % _MAXINT32)
    else:
        seeds = (None, None)
    if seeds == (0, 0):
        return 0, _MAXINT32          # (0, 0) would mean "unseeded" to the kernel
    return seeds


tf1_mnist.set_seed_rule(get_seed)    # TF1's MNIST DataSet seeds numpy by this rule too


def _shape_tensor(shape):
    if hasattr(shape, "op") or hasattr(shape, "_graph_tensor") or isinstance(shape, (list, tuple)) and \
            holds_tensor(shape):
        return convert_to_tensor(shape, torch.int32)
    return constant([int(d) for d in shape], torch.int32, name="shape")


def _random_infer(op):
    s = op.inputs[0]
    static = s.op.attrs["value"].tolist() if s.op.type == "Const" else None
    if static is None:
        dims = partial_shape_value(s)
        return one_output(TensorShape(None if dims is None else [d if d is None or d >= 0 else None for d in dims]),
                          op.attrs["dtype"])
    return one_output(TensorShape(static), op.attrs["dtype"])


_DRAW = {"RandomStandardNormal": philox.normal, "TruncatedNormal": philox.truncated_normal,
         "RandomUniform": philox.uniform}


def _random_make(op, rt, device):
    seed, seed2 = op.attrs["seed"], op.attrs["seed2"]
    if seed == 0 and seed2 == 0:                      # unseeded: random, but fixed for this session
        seed, seed2 = secrets.randbits(63), secrets.randbits(63)
    draw, dtype = _DRAW[op.type], op.attrs["dtype"]

    def kernel(shape):
        dims = [int(d) for d in shape.tolist()]
        n = math.prod(dims)
        start = rt.streams.get(op, 0)
        rt.streams[op] = start + philox.RESERVED_PER_OUTPUT * n      # the op reserves 256 counters per value
        values = draw(seed, seed2, start, n).reshape(dims)
        return torch.from_numpy(values).to(device=device, dtype=dtype)
    return kernel


for _t in _DRAW:
    register_op(_t, infer=_random_infer, make=_random_make, stateful=True)
    NotDifferentiable(_t)


def _random_uniform_int_make(op, rt, device):
    seed, seed2 = op.attrs["seed"], op.attrs["seed2"]
    if seed == 0 and seed2 == 0:
        seed, seed2 = secrets.randbits(63), secrets.randbits(63)

    def kernel(shape, lo, hi):
        dims = [int(d) for d in shape.tolist()]
        n = math.prod(dims)
        start = rt.streams.get(op, 0)
        rt.streams[op] = start + philox.RESERVED_PER_OUTPUT * n
        values = philox.uniform_int(seed, seed2, start, n, int(lo), int(hi)).reshape(dims)
        return torch.from_numpy(values).to(device=device, dtype=op.attrs["dtype"])
    return kernel


register_op("RandomUniformInt", infer=_random_infer, make=_random_uniform_int_make, stateful=True)
NotDifferentiable("RandomUniformInt")


def _scaled_draw(op_type, default_name, shape, mean, stddev, dtype, seed, name):
    """`mean + stddev * z`, z from the seeded standard op `op_type`, named as TF names it."""
    dtype = _dt.as_torch_dtype(dtype)
    with get_default_graph().name_scope(name or default_name) as scope:
        shape_t = _shape_tensor(shape)
        mean_t = convert_to_tensor(mean, dtype=dtype, name="mean")
        stddev_t = convert_to_tensor(stddev, dtype=dtype, name="stddev")
        seed1, seed2 = get_seed(seed)
        rnd = make_op(op_type, [shape_t], {"seed": seed1 or 0, "seed2": seed2 or 0, "dtype": dtype}, op_type).outputs[0]
        return add(multiply(rnd, stddev_t, name="mul"), mean_t, name=scope)


def random_normal(shape, mean=0.0, stddev=1.0, dtype=torch.float32, seed=None, name=None):
    """Normal values `mean + stddev * z`, z from TF's Philox/Box-Muller stream."""
    return _scaled_draw("RandomStandardNormal", "random_normal", shape, mean, stddev, dtype, seed, name)


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=torch.float32, seed=None, name=None):
    """Normal values re-drawn until within two standard deviations of the mean."""
    return _scaled_draw("TruncatedNormal", "truncated_normal", shape, mean, stddev, dtype, seed, name)


def random_uniform(shape, minval=0, maxval=None, dtype=torch.float32, seed=None, name=None):
    """Uniform values in [minval, maxval) (maxval defaults to 1 for floats; required for ints)."""
    dtype = _dt.as_torch_dtype(dtype)
    g = get_default_graph()
    if maxval is None:
        if _dt.is_integer(dtype):
            raise ValueError(f"Must specify maxval for integer dtype {_dt.name(dtype)}.")
        maxval = 1
    with g.name_scope(name or "random_uniform") as scope:
        shape_t = _shape_tensor(shape)
        lo = convert_to_tensor(minval, dtype=dtype, name="min")
        hi = convert_to_tensor(maxval, dtype=dtype, name="max")
        seed1, seed2 = get_seed(seed)
        attrs = {"seed": seed1 or 0, "seed2": seed2 or 0, "dtype": dtype}
        if _dt.is_integer(dtype):
            return make_op("RandomUniformInt", [shape_t, lo, hi], attrs, scope).outputs[0]
        rnd = make_op("RandomUniform", [shape_t], attrs, "RandomUniform").outputs[0]
        return add(multiply(rnd, subtract(hi, lo, name="sub"), name="mul"), lo, name=scope)
