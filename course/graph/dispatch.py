"""One op-level dispatch: a TF2 op given graph tensors (or called while a graph is being built)
adds graph ops instead of computing.

    y = tf.matmul(x, w)     # eager tensors: the eager engine computes y now
                            # inside a traced tf.function: a MatMul op in the function's graph

The facade (`course.tf`) maps each TF2 name through `op(name, eager_fn)`; the graph form comes
from `GRAPH_FORMS` (graph-engine functions, adapted to TF2's signatures). A name without a graph
form raises `NoGraphForm` while building, so a traced function can say which op stopped it.
Python operators on eager Variables and tensors (`v * 2`, `w[0]`) reach the graph through the
eager tensor's `__torch_function__` (`torch_function` below); `v.assign(...)` through
`variable_method`.
"""
import functools
import inspect

import torch

from course.framework import nest
from course.graph import array_ops, conv_ops, gather_ops, math_ops, nn_ops, random_ops, reduce_ops, shape_ops
from course.graph import graph as _graph
from course.graph import assert_ops, resource_ops
from course.graph.gradients import gradients
from course.graph.math_ops import TENSOR_OPERATORS
from course.graph.variables import Variable
from course.tape import tensor as _tensor
from course.tape import variables as _variables

__all__ = ["NoGraphForm", "building", "is_symbolic", "op", "GRAPH_FORMS", "wrap_namespace", "install", "global_norm"]


class NoGraphForm(NotImplementedError):
    """An op reached while building a graph has no graph form (`.op_name` says which)."""

    def __init__(self, op_name, detail=""):
        self.op_name = op_name
        super().__init__(f"{op_name} has no graph form yet{': ' + detail if detail else ''}. Call it outside "
                         "tf.function, or run the function eagerly (tf.config.run_functions_eagerly(True)).")


def building():
    """True inside `with graph.as_default():` (a tf.Graph, or a tf.function being traced)."""
    return bool(_graph._graph_stack)


def is_symbolic(value):
    return isinstance(value, _graph.Tensor)


def _has_symbolic(args, kwargs):
    for a in args:
        if isinstance(a, _graph.Tensor):
            return True
        if isinstance(a, (list, tuple)) and any(isinstance(b, _graph.Tensor) for b in a):
            return True
    return bool(kwargs) and any(isinstance(v, _graph.Tensor) for v in kwargs.values())


def op(name, eager_fn):
    """The facade's `name`: `eager_fn` on eager values, its graph form while building a graph."""
    graph_fn = GRAPH_FORMS.get(name)

    @functools.wraps(eager_fn)
    def dispatching(*args, **kwargs):
        if _graph._graph_stack or _has_symbolic(args, kwargs):
            if graph_fn is None:
                raise NoGraphForm(f"tf.{name}")
            return graph_fn(*args, **kwargs)
        return eager_fn(*args, **kwargs)
    dispatching.eager_fn = eager_fn
    return dispatching


# Facade functions that are not ops: they work the same while a graph is being built.
_NOT_OPS = {"is_tensor", "as_dtype", "custom_gradient", "get_static_value", "set_seed", "function",
            "set_global_seed", "device"}


def wrap_namespace(namespace, prefix=""):
    """Replace each op of a facade module's namespace by its dispatcher: the graph form where there
    is one, else `NoGraphForm` while building (never an eager op silently fed a graph tensor)."""
    for key, value in list(namespace.items()):
        full = prefix + key
        if key.startswith("_") or isinstance(value, type) or not inspect.isfunction(value) or key in _NOT_OPS:
            continue
        if full in GRAPH_FORMS or value.__module__.startswith("course.tape."):
            namespace[key] = op(full, value)


# -- TF2 signatures onto the graph engine's functions -------------------------------------------------------
def _transpose(a, perm=None, conjugate=False, name="transpose"):
    return shape_ops.transpose(a, perm, name=name)


def _argmax(input, axis=None, output_type=torch.int64, name=None):   # noqa: A002 (TF's name)
    return reduce_ops.argmax(input, axis, name=name, output_type=output_type)


def _argmin(input, axis=None, output_type=torch.int64, name=None):   # noqa: A002
    return reduce_ops.argmin(input, axis, name=name, output_type=output_type)


def _in_top_k(targets, predictions, k, name=None):          # TF2's order: targets first
    return nn_ops.in_top_k(predictions, targets, k, name)


def _pad(tensor, paddings, mode="CONSTANT", constant_values=0, name=None):   # TF2's order: constant_values before name
    return shape_ops.pad(tensor, paddings, mode, name, constant_values)


def _reduce(fn):
    def reduce(input_tensor, axis=None, keepdims=False, name=None):
        return fn(input_tensor, axis, keepdims, name)
    return reduce


def _dropout(x, rate, noise_shape=None, seed=None, name=None):
    return nn_ops.dropout(x, noise_shape=noise_shape, seed=seed, name=name, rate=rate)


def _conv2d(input, filters, strides, padding, data_format="NHWC", dilations=None, name=None):   # noqa: A002
    return conv_ops.conv2d(input, filters, strides, padding, data_format=data_format, dilations=dilations, name=name)


def _sparse_ce(labels, logits, name=None):
    return nn_ops.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits, name=name)


def _softmax_ce(labels, logits, axis=-1, name=None):
    return nn_ops.softmax_cross_entropy_with_logits_v2(labels=labels, logits=logits, axis=axis, name=name)


def _sigmoid_ce(labels=None, logits=None, name=None):
    return nn_ops.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits, name=name)


def _random(fn):
    def random(shape, a=0.0, b=None, dtype=torch.float32, seed=None, name=None):
        return fn(shape, a, b if b is not None else 1.0, dtype, seed, name)
    return random


def _uniform(shape, minval=0, maxval=None, dtype=torch.float32, seed=None, name=None):
    return random_ops.random_uniform(shape, minval, maxval, dtype, seed, name)


def global_norm(t_list, name=None):
    """sqrt(Σ ||t||²) over the tensors of `t_list` (None entries skipped): `tf.global_norm`."""
    present = [array_ops.convert_to_tensor(t) for t in t_list if t is not None]
    squares = [reduce_ops.reduce_sum(math_ops.square(t)) for t in present]
    return math_ops.sqrt(math_ops.add_n(squares) if len(squares) > 1 else squares[0], name=name or "global_norm")


def _clip_by_global_norm(t_list, clip_norm, use_norm=None, name=None):
    """(clipped list, global norm): each tensor times clip_norm / max(global_norm, clip_norm)."""
    t_list = list(t_list)
    present = [array_ops.convert_to_tensor(t) for t in t_list if t is not None]
    if use_norm is None:
        use_norm = global_norm(present)
    use_norm = array_ops.convert_to_tensor(use_norm, dtype=present[0].dtype)
    clip = array_ops.convert_to_tensor(clip_norm, dtype=use_norm.dtype)
    scale = math_ops.truediv(clip, math_ops.maximum(use_norm, clip))
    return [None if t is None else math_ops.multiply(t, scale) for t in t_list], use_norm


def _clip_by_norm(t, clip_norm, axes=None, name=None):
    t = array_ops.convert_to_tensor(t)
    norm = math_ops.sqrt(reduce_ops.reduce_sum(math_ops.square(t), axes, True))
    clip = array_ops.convert_to_tensor(clip_norm, dtype=t.dtype)
    return math_ops.multiply(t, math_ops.truediv(clip, math_ops.maximum(norm, clip)), name=name)


def _squared_difference(x, y, name=None):
    return math_ops.square(math_ops.subtract(x, y), name=name)


GRAPH_FORMS = {
    # creation and conversion
    "constant": array_ops.constant, "convert_to_tensor": array_ops.convert_to_tensor,
    "identity": array_ops.identity, "stop_gradient": array_ops.stop_gradient, "cast": array_ops.cast,
    "zeros": array_ops.zeros, "ones": array_ops.ones, "zeros_like": array_ops.zeros_like,
    "ones_like": array_ops.ones_like, "fill": array_ops.fill,
    # arithmetic
    "add": math_ops.add, "subtract": math_ops.subtract, "multiply": math_ops.multiply, "divide": math_ops.divide,
    "truediv": math_ops.truediv, "add_n": math_ops.add_n, "matmul": math_ops.matmul, "maximum": math_ops.maximum,
    "minimum": math_ops.minimum, "pow": math_ops.pow, "negative": math_ops.negative, "abs": math_ops.abs,
    "exp": math_ops.exp, "sqrt": math_ops.sqrt, "square": math_ops.square, "sign": math_ops.sign,
    "floor": math_ops.floor, "clip_by_value": math_ops.clip_by_value, "squared_difference": _squared_difference,
    "clip_by_global_norm": _clip_by_global_norm, "clip_by_norm": _clip_by_norm,
    "equal": math_ops.equal, "not_equal": math_ops.not_equal, "less": math_ops.less,
    "less_equal": math_ops.less_equal, "greater": math_ops.greater, "greater_equal": math_ops.greater_equal,
    "logical_and": math_ops.logical_and, "logical_or": math_ops.logical_or, "logical_not": math_ops.logical_not,
    "sigmoid": nn_ops.sigmoid, "tanh": nn_ops.tanh,
    "math.log": math_ops.log, "math.log1p": math_ops.log1p, "math.rsqrt": math_ops.rsqrt,
    "math.reciprocal": math_ops.reciprocal, "math.floordiv": math_ops.floordiv, "math.floormod": math_ops.mod,
    # reductions
    "reduce_sum": _reduce(reduce_ops.reduce_sum), "reduce_mean": _reduce(reduce_ops.reduce_mean),
    "reduce_max": _reduce(reduce_ops.reduce_max), "reduce_min": _reduce(reduce_ops.reduce_min),
    "reduce_prod": _reduce(reduce_ops.reduce_prod), "reduce_all": _reduce(reduce_ops.reduce_all),
    "reduce_any": _reduce(reduce_ops.reduce_any), "reduce_logsumexp": _reduce(reduce_ops.reduce_logsumexp),
    "argmax": _argmax, "argmin": _argmin,
    # shapes
    "reshape": shape_ops.reshape, "transpose": _transpose, "concat": shape_ops.concat, "stack": shape_ops.stack,
    "expand_dims": shape_ops.expand_dims, "squeeze": shape_ops.squeeze, "shape": shape_ops.shape,
    "size": shape_ops.size, "rank": shape_ops.rank, "one_hot": shape_ops.one_hot, "where": shape_ops.where,
    "gather": gather_ops.gather, "unstack": shape_ops.unstack, "split": shape_ops.split, "slice": shape_ops.slice_,
    "tile": shape_ops.tile, "pad": _pad,
    # nn
    "nn.relu": nn_ops.relu, "nn.relu6": nn_ops.relu6, "nn.leaky_relu": nn_ops.leaky_relu, "nn.elu": nn_ops.elu,
    "nn.softplus": nn_ops.softplus, "nn.sigmoid": nn_ops.sigmoid, "nn.tanh": nn_ops.tanh,
    "nn.softmax": nn_ops.softmax, "nn.log_softmax": nn_ops.log_softmax, "nn.bias_add": nn_ops.bias_add,
    "nn.dropout": _dropout, "nn.l2_loss": nn_ops.l2_loss, "nn.conv2d": _conv2d,
    "nn.max_pool2d": conv_ops.max_pool2d, "nn.avg_pool2d": conv_ops.avg_pool2d,
    "nn.sparse_softmax_cross_entropy_with_logits": _sparse_ce, "nn.softmax_cross_entropy_with_logits": _softmax_ce,
    "nn.sigmoid_cross_entropy_with_logits": _sigmoid_ce,
    "math.in_top_k": _in_top_k, "nn.in_top_k": _in_top_k,
    # random (stateful: a new draw every run)
    "random.normal": _random(random_ops.random_normal), "random.truncated_normal": _random(random_ops.truncated_normal),
    "random.uniform": _uniform,
    # side effects and graph structure
    "print": resource_ops.print_v2, "control_dependencies": _graph.control_dependencies,
    "name_scope": lambda name: _graph.get_default_graph().name_scope(name), "executing_eagerly": lambda: False,
    "init_scope": lambda: _OutsideGraph(),
}
for _name in ("add", "subtract", "multiply", "divide", "truediv", "add_n", "maximum", "minimum", "pow", "negative",
              "abs", "exp", "sqrt", "square", "sign", "floor", "equal", "not_equal", "less", "less_equal",
              "greater", "greater_equal", "logical_and", "logical_or", "logical_not", "sigmoid", "tanh",
              "reduce_sum", "reduce_mean", "reduce_max", "reduce_min", "reduce_prod", "reduce_all", "reduce_any",
              "reduce_logsumexp", "argmax", "argmin", "squared_difference"):
    GRAPH_FORMS.setdefault("math." + _name, GRAPH_FORMS[_name])
for _name in ("ceil", "round", "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "erf", "expm1"):
    GRAPH_FORMS["math." + _name] = GRAPH_FORMS[_name] = getattr(math_ops, _name)
GRAPH_FORMS.update(assert_ops.FORMS)
GRAPH_FORMS.update({"math.softmax": nn_ops.softmax, "math.log_softmax": nn_ops.log_softmax, "log": math_ops.log,
                    "math.neg": math_ops.negative, "math.mod": math_ops.mod, "math.softplus": nn_ops.softplus,
                    "math.count_nonzero": reduce_ops.count_nonzero, "nn.max_pool": conv_ops.max_pool,
                    "nn.avg_pool": conv_ops.avg_pool})


class _OutsideGraph:
    """`tf.init_scope()`: code inside runs eagerly even while a graph is being built."""

    def __enter__(self):
        self.saved = list(_graph._graph_stack)
        _graph._graph_stack.clear()

    def __exit__(self, *exc):
        _graph._graph_stack[:] = self.saved
        return False


# -- eager tensors and Variables meeting a graph ------------------------------------------------------------
_BY_TORCH = {}
for _key in TENSOR_OPERATORS:
    _fn = getattr(torch.Tensor, _key, None)
    if _fn is not None:
        _BY_TORCH[_fn] = TENSOR_OPERATORS[_key]
for _name, _key in (("add", "__add__"), ("sub", "__sub__"), ("mul", "__mul__"), ("div", "__truediv__"),
                    ("matmul", "__matmul__"), ("neg", "__neg__"), ("abs", "__abs__"), ("pow", "__pow__"),
                    ("lt", "__lt__"), ("le", "__le__"), ("gt", "__gt__"), ("ge", "__ge__")):
    _BY_TORCH[getattr(torch.Tensor, _name)] = TENSOR_OPERATORS[_key]


def torch_function(func, args, kwargs):
    """An operator on an eager tensor while a graph is built, or next to a graph tensor: the graph op.
    Returns NotImplemented for anything else (shape and dtype queries run eagerly)."""
    graph_op = _BY_TORCH.get(func)
    if graph_op is None or kwargs:
        return NotImplemented
    if not any(isinstance(a, (_variables.Variable, _graph.Tensor)) for a in args):
        return NotImplemented      # eager values alone (a kernel running in a Session) compute as usual
    first = args[0]
    if not isinstance(first, _graph.Tensor):
        first = array_ops.convert_to_tensor(first)
    return graph_op(first, *args[1:])


def variable_method(var, method, *args, **kwargs):
    """`v.assign(x)`, `v.assign_add(x)`, `v.assign_sub(x)`, `v.read_value()` while building a graph."""
    if method == "read_value" or method == "value":
        return resource_ops.read_variable(var)
    mode = {"assign": "set", "assign_add": "add", "assign_sub": "sub"}[method]
    value = args[0] if args else kwargs.get("value", kwargs.get("delta"))
    return resource_ops.assign_variable(var, value, mode, name=kwargs.get("name"))


def tape_gradient(tape, target, sources, output_gradients, zero):
    """`tape.gradient` on graph tensors (inside a traced function): symbolic gradient ops. A
    Variable's gradient sums over its reads in the graph; unwatched sources give None (or zeros)."""
    flat_sources = nest.flatten(sources)
    ys = [t for t in nest.flatten(target) if isinstance(t, _graph.Tensor)]
    grad_ys = None if output_gradients is None else nest.flatten(output_gradients)
    g = ys[0].graph
    xs, owner = [], []
    for i, s in enumerate(flat_sources):
        if isinstance(s, _variables.Variable):
            if not s.trainable or not (s.dtype.is_floating_point or s.dtype.is_complex):
                continue
            if not tape._watch_accessed_variables and id(s) not in tape._watched:
                continue
            for read in resource_ops.variable_reads(g, s):
                xs.append(read)
                owner.append(i)
        elif isinstance(s, _graph.Tensor) and (id(s) in tape._watched or s.op.type != "Placeholder"):
            xs.append(s)
            owner.append(i)
    result = [None] * len(flat_sources)
    if xs:
        grads = gradients(ys, xs, grad_ys=grad_ys)
        for i, gr in zip(owner, grads):
            if gr is not None:
                result[i] = gr if result[i] is None else math_ops.add(result[i], gr)
    if zero:
        for i, s in enumerate(flat_sources):
            if result[i] is None:
                shape = list(s.shape)
                result[i] = array_ops.zeros_like(s) if isinstance(s, _graph.Tensor) else array_ops.zeros(shape, s.dtype)
    return nest.pack_sequence_as(sources, result)


def graph_variable(initial_value, trainable, name, dtype, shape):
    """`tf.Variable(...)` while a TF1 graph is the default: a graph variable, as TF makes one in graph
    mode. Inside a traced function (a FuncGraph) None: the variable is eager, made on the first trace."""
    g = _graph.get_default_graph()
    if getattr(g, "inputs", None) is not None:        # a FuncGraph
        return None
    kwargs = {"trainable": trainable, "name": name, "dtype": dtype}
    if shape is not None:
        kwargs["shape"] = shape
    return Variable(initial_value, **{k: v for k, v in kwargs.items() if v is not None or k == "trainable"})


def install():
    """Connect the eager engine's hooks to the graph engine (done once, on import)."""
    _tensor.GRAPH_STACK = _graph._graph_stack
    _tensor.graph_hooks.update(building=building, is_symbolic=is_symbolic, torch_function=torch_function,
                               variable_method=variable_method, read=resource_ops.read_variable,
                               gradient=tape_gradient, graph_variable=graph_variable)


install()
