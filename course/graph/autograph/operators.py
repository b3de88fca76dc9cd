"""What converted code calls (`ag__.if_stmt`, `ag__.while_stmt`, ...): Python or graph, decided per call.

Each operator looks at its condition (or iterable) when the traced function runs it:
* a Python value (or an eager tensor): plain Python -- the branch runs, the loop unrolls, as in TF;
* a graph tensor: the statement becomes `tf.cond` / `tf.while_loop`; a `for` over a graph tensor
  loops over its first dimension (a `tf.range` included), a `for` over a `tf.data.Dataset` runs the
  dataset inside the graph, on every call (`DatasetFor`).

The statement's variables travel as a tuple `state` with their `names`. In a tensor `if`, a variable
that is the same object in both branches passes through; one that differs must be a tensor (or a
number) in both, and one set in only one branch becomes `Undefined`: using it later raises an
error naming it. In a tensor loop, a variable with no value before the loop is a temporary of the
body; a Python object that is not a tensor (a list, a layer) is left as it is.
"""
import torch

from course.framework import dtypes as _dt
from course.framework import nest
from course.framework.shapes import TensorShape, as_shape
from course.graph.autograph import graph_state
from course.graph.cond_ops import cond as graph_cond
from course.graph.control_flow_util import building, flatten_values
from course.graph.while_ops import while_loop
from course.graph.array_ops import convert_to_tensor
from course.graph.gather_ops import gather
from course.graph.graph import Tensor
from course.graph.math_ops import logical_and, logical_not, logical_or
from course.graph.dataset_ops import dataset_loop
from course.graph.shape_ops import shape
from course.tape.data.dataset import Dataset

__all__ = ["if_stmt", "while_stmt", "for_stmt", "python_loop_test", "python_loop_iter", "and_", "or_", "not_",
           "if_exp", "ld", "Undefined", "OperatorNotAllowedInGraphError", "BOOL_MESSAGE", "set_loop_options"]

BOOL_MESSAGE = (
    "Using a symbolic `tf.Tensor` as a Python `bool` is not allowed. You can attempt the following resolutions to "
    "the problem: If you are running in Graph mode, use Eager execution mode or decorate this function with "
    "@tf.function. If you are using AutoGraph, you can try decorating this function with @tf.function. If that "
    "does not work, then you may be using an unsupported feature or your source code may not be visible to "
    "AutoGraph. See https://github.com/tensorflow/tensorflow/blob/master/tensorflow/python/autograph/g3doc/"
    "reference/limitations.md#access-to-source-code for more information.")


class OperatorNotAllowedInGraphError(TypeError):
    """TF's error for a graph tensor used where Python needs a value (`bool(t)`, `for x in t` unconverted)."""


class Undefined:
    """A variable with no value on this path (set in one branch of a tensor `if`, or only in a loop).
    Using it raises TF's error for that case (`reason`), or a NameError-like one."""

    __slots__ = ("symbol_name", "reason")

    def __init__(self, symbol_name, reason=None):
        object.__setattr__(self, "symbol_name", symbol_name)
        object.__setattr__(self, "reason", reason)

    def _fail(self, *args, **kwargs):
        if self.reason is not None:
            raise ValueError(self.reason)
        raise UnboundLocalError(
            f"'{self.symbol_name}' has no value here: it is set in only one branch of an `if` on a tensor, or only "
            f"inside a loop on a tensor. Give '{self.symbol_name}' a value before the `if`/loop (or in both "
            "branches).")

    def __getattr__(self, name):
        if name.startswith("_"):                     # probes (copy, nest, hasattr) see a plain object
            raise AttributeError(name)
        self._fail()

    __bool__ = __call__ = __iter__ = __len__ = __getitem__ = __neg__ = __abs__ = _fail
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __truediv__ = __rtruediv__ = _fail
    __matmul__ = __rmatmul__ = __pow__ = __floordiv__ = __mod__ = __lt__ = __le__ = __gt__ = __ge__ = _fail

    def __repr__(self):
        return f"Undefined({self.symbol_name!r})"


def ld(local_values, names):
    """The current values of `names` (an `Undefined` for each not yet assigned)."""
    return tuple(local_values[n] if n in local_values else Undefined(n) for n in names)


def _is_graph(value):
    return isinstance(value, Tensor)


# -- expressions ---------------------------------------------------------------------------------------------
def not_(value):
    return logical_not(value) if _is_graph(value) else not value


def and_(*parts):
    value = parts[0]()
    for part in parts[1:]:
        if _is_graph(value):
            value = logical_and(value, part())
        elif not value:
            return value
        else:
            value = part()
    return value


def or_(*parts):
    value = parts[0]()
    for part in parts[1:]:
        if _is_graph(value):
            value = logical_or(value, part())
        elif value:
            return value
        else:
            value = part()
    return value


def if_exp(test, true_fn, false_fn):
    if _is_graph(test):
        return graph_cond(test, true_fn, false_fn)
    return true_fn() if test else false_fn()


# -- if ------------------------------------------------------------------------------------------------------
def if_stmt(test, true_fn, false_fn, state, names, returns=False):
    if isinstance(test, Undefined):
        test._fail()
    if not _is_graph(test):
        return true_fn(*state) if test else false_fn(*state)
    if returns:
        return graph_cond(test, lambda: true_fn(*state), lambda: false_fn(*state))
    return graph_state.cond_state(test, [lambda: true_fn(*state), lambda: false_fn(*state)], names,
                                  (Undefined, _one_branch))


def _one_branch(name, branch):
    return Undefined(name, f"'{name}' must also be initialized in the {branch} branch")


# -- loops ---------------------------------------------------------------------------------------------------
def _loop_vars(state):
    """Positions of the state that a graph loop carries (tensors, numbers, TensorArrays, their nests)."""
    return [i for i, v in enumerate(state) if _carried(v)]


def _carried(value):
    if isinstance(value, Undefined):
        return False
    leaves = nest.flatten(value)
    return bool(leaves) and all(isinstance(v, (Tensor, torch.Tensor, int, float, bool)) or hasattr(v, "_cf_flow")
                                for v in leaves) and not isinstance(value, Undefined)


def _merge(state, positions, values):
    full = list(state)
    for i, v in zip(positions, values):
        full[i] = v
    return tuple(full)


def _define_temporaries(body, state, names, item=None):
    """Variables undefined before a graph loop that its body defines (`last = i`): as TF does, trace
    the body once on the side to learn their dtype and shape, and start them at zeros."""
    undefined = [i for i, v in enumerate(state) if isinstance(v, Undefined)]
    if not undefined:
        return state
    probe = graph_state.probe_outputs(lambda: body(*(() if item is None else (item(),)), *state))
    state = list(state)
    for i in undefined:
        out = probe[i] if probe is not None and i < len(probe) else None
        if isinstance(out, tuple) and out[1].is_fully_defined():
            state[i] = graph_state.zeros_of(out[0], out[1])
        else:
            state[i] = Undefined(names[i], f"'{names[i]}' must be defined before the loop")
    return tuple(state)


def _check_iteration(names, carried, values, out):
    """TF's AutoGraph errors, naming the variable, for a loop variable whose dtype or shape one
    iteration changes (`values`: the carried variables as the body received them)."""
    for k, before in zip(carried, values):
        after = out[k]
        if not (isinstance(before, Tensor) and isinstance(after, Tensor)):
            continue
        if after.dtype != before.dtype:
            raise TypeError(f"'{names[k]}' has dtype {_dt.name(before.dtype)} before the loop, but dtype "
                            f"{_dt.name(after.dtype)} after one iteration")
        if not _fits(after.shape, before.shape):
            raise ValueError(f"'{names[k]}' has shape {before.shape} before the loop, but shape {after.shape} after "
                             "one iteration. Use tf.autograph.experimental.set_loop_options to set shape "
                             "invariants.")


def set_loop_options(parallel_iterations=None, swap_memory=None, maximum_iterations=None, shape_invariants=None):
    """`tf.autograph.experimental.set_loop_options`: a directive AutoGraph reads from a loop's body
    (`shape_invariants=[(x, tf.TensorShape([None]))]`, `maximum_iterations=n`); a call that runs does nothing."""


def _loop_kwargs(opts, state, carried):
    """while_loop keyword arguments from a loop's set_loop_options: maximum_iterations, and shape
    invariants for the carried variables named in shape_invariants (the others keep their shapes)."""
    if not opts:
        return {}
    kwargs = {}
    if opts.get("maximum_iterations") is not None:
        kwargs["maximum_iterations"] = opts["maximum_iterations"]
    pairs = opts.get("shape_invariants") or []
    if pairs:
        chosen = {}
        for var, inv in pairs:
            hits = [i for i in carried if state[i] is var]
            if not hits:
                raise ValueError("set_loop_options(shape_invariants=...) names a value that is not a variable of "
                                 "this loop; give (variable, tf.TensorShape) pairs for variables the loop changes.")
            chosen[hits[0]] = inv
        shapes = [TensorShape([])]
        for i in carried:
            flat, _ = flatten_values(state[i])
            own = [convert_to_tensor(v).shape for v in flat]
            shapes.append(as_shape(chosen[i]) if i in chosen else nest.pack_sequence_as(
                state[i], own) if nest.is_nested(state[i]) else own[0])
        kwargs["shape_invariants"] = shapes
    return kwargs


def _fits(shape, invariant):
    if invariant.rank is None:
        return True
    if shape.rank != invariant.rank:
        return False
    return all(b is None or a == b for a, b in zip(shape, invariant))


def while_stmt(test, body, state, names, opts=None):
    first = test(*state)
    if not _is_graph(first):
        while first:
            state = body(*state)
            first = test(*state)
        return state
    state = _define_temporaries(body, state, names)
    carried = _loop_vars(state)
    held = list(state)

    def cond(k, *values):
        return test(*_merge(held, carried, values))

    def step(k, *values):
        out = body(*_merge(held, carried, values))
        _check_iteration(names, carried, values, out)
        return [k] + [out[i] for i in carried]
    result = while_loop(cond, step, [0] + [state[i] for i in carried], name="while",
                        **_loop_kwargs(opts, state, carried))
    return _merge(state, carried, result[1:])


def for_stmt(iterable, extra_test, body, state, names, opts=None):
    if _is_graph(iterable):
        state = _define_temporaries(body, state, names, lambda: gather(iterable, 0))
        return _tensor_for(iterable, extra_test, body, state, names, opts)
    if _is_dataset(iterable) and building():
        state = _define_temporaries(body, state, names, lambda: graph_state.element_placeholders(iterable))
        return _dataset_for(iterable, extra_test, body, state, names)
    for item in iterable:
        if extra_test is not None and not extra_test(*state):
            break
        state = body(item, *state)
    return state


def _tensor_for(iterable, extra_test, body, state, names, opts=None):
    if iterable.shape.rank == 0:
        raise TypeError(f"Cannot iterate over a scalar tensor ({iterable.name}): a `for` loop needs a tensor with "
                        "at least one dimension.")
    n = shape(iterable, out_type=torch.int32)[0]
    carried = _loop_vars(state)
    held = list(state)

    def cond(i, *values):
        go = i < n
        if extra_test is None:
            return go
        return logical_and(go, convert_to_tensor(extra_test(*_merge(held, carried, values))))

    def step(i, *values):
        out = body(gather(iterable, i), *_merge(held, carried, values))
        _check_iteration(names, carried, values, out)
        return [i + 1] + [out[k] for k in carried]
    result = while_loop(cond, step, [0] + [state[i] for i in carried], name="for",
                        **_loop_kwargs(opts, state, carried))
    return _merge(state, carried, result[1:])


_RETURN_IN_LOOP = ("a return statement cannot be placed inside this TensorFlow loop; this may happen if a return "
                   "statement depends on a static Python condition such as a hyperparameter")


def python_loop_test(value):
    """The test of a `while` that holds a `return`: it must be a Python value (TF's limitation)."""
    if _is_graph(value):
        raise NotImplementedError(_RETURN_IN_LOOP)
    return value


def python_loop_iter(iterable):
    """The iterable of a `for` that holds a `return`: it must not be a tensor or a dataset in a graph."""
    if _is_graph(iterable) or (_is_dataset(iterable) and building()):
        raise NotImplementedError(_RETURN_IN_LOOP)
    return iterable


def _is_dataset(value):
    return isinstance(value, Dataset)


def _dataset_for(dataset, extra_test, body, state, names):
    carried = _loop_vars(state)
    held = list(state)

    def step(element, *values):
        out = body(element, *_merge(held, carried, values))
        _check_iteration(names, carried, values, out)
        return [out[k] for k in carried]

    def test(*values):
        return extra_test(*_merge(held, carried, values))
    result = dataset_loop(dataset, step, [state[i] for i in carried], test if extra_test is not None else None)
    return _merge(state, carried, result)
