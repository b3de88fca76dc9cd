"""TF1's graph objects: `Graph`, `Operation` and the symbolic `Tensor`.

Building a graph runs nothing. Each call such as `tf.matmul(a, b)` adds an `Operation` (a node:
its type, inputs, attributes and device) to the default graph and returns its output `Tensor`, a
symbolic value that knows its dtype and static shape (`None` where only the run will tell).
Names are unique per graph, as TensorFlow makes them: "x", "x_1", "x_2", ...; name scopes
prefix them ("layer1/MatMul"). A `Session` later runs the part of the graph a fetch needs.

The default graph and the default session are stacks kept here, beside the graph, so that
`t.eval()` and `op.run()` find their session without this module importing `session`.

One concept over ~450 lines on purpose: this is TensorFlow's ops.py, the graph data structure.
Graph, Operation and Tensor refer to each other at every step (`create_op` builds Operations and
their Tensors, a Tensor reaches its graph through its op, `eval()` reaches the default session),
so splitting them would only trade this file's length for an import circle.
"""
import contextlib
import os
import re
import sys

from course.framework import dtypes as _dt
from course.framework.shapes import as_shape, tf1_str
from course.graph.graph_def import to_graph_def
from course.graph.registry import REGISTRY

__all__ = ["Graph", "Operation", "Tensor", "GraphKeys", "get_default_graph", "reset_default_graph",
           "graph_of", "control_dependencies", "device", "name_scope", "get_default_session", "default_session",
           "session_for", "leave_defaults"]

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# TensorFlow's rules for names given by the user (ops.py): a name at the top level must start with
# a letter, digit or '.'; inside a scope it may also start with '_', '-', '/', '\\' or '>'.
_VALID_ROOT_NAME = re.compile(r"[A-Za-z0-9.][A-Za-z0-9_.\\/>-]*")
_VALID_SCOPE_NAME = re.compile(r"[A-Za-z0-9_.\\/>-]*")


def check_name(name, scoped):
    """Raise TF's ValueError unless `name` (a user's op or scope name) follows TF's rule. Matched
    in full (TF's `$` would let a trailing newline through), so a name is always safe to print."""
    if not isinstance(name, str):
        raise TypeError(f"An op or scope name must be a string; got {type(name).__name__} {name!r}.")
    rule = _VALID_SCOPE_NAME if scoped else _VALID_ROOT_NAME
    if not rule.fullmatch(name):
        kind = "scope name" if scoped else "root scope name"
        raise ValueError(f"{name!r} is not a valid {kind}. A {kind} has to match the following pattern: "
                         f"^{rule.pattern}$. Use letters, digits and . _ - / > only (no spaces, quotes, "
                         "newlines or '#').")


class GraphKeys:
    """Standard collection names (TF's `tf.GraphKeys`)."""
    GLOBAL_VARIABLES = "variables"
    VARIABLES = "variables"
    LOCAL_VARIABLES = "local_variables"
    TRAINABLE_VARIABLES = "trainable_variables"
    MODEL_VARIABLES = "model_variables"
    GLOBAL_STEP = "global_step"
    UPDATE_OPS = "update_ops"
    LOSSES = "losses"
    REGULARIZATION_LOSSES = "regularization_losses"
    SUMMARIES = "summaries"
    TRAIN_OP = "train_op"
    INIT_OP = "init_op"
    SAVERS = "savers"


def _user_frame():
    """'file.py:12' of the first caller outside this package (where the learner built the op)."""
    f = sys._getframe(2)
    while f is not None and f.f_code.co_filename.startswith(_PACKAGE_DIR):
        f = f.f_back
    return f"{f.f_code.co_filename}:{f.f_lineno}" if f is not None else None


class Tensor:
    """A symbolic output of an `Operation`: `op`, `value_index`, `dtype` and a static `shape`.

    It holds no value; `sess.run(t)` or `t.eval()` computes one. Arithmetic operators build new
    ops (`a + b`, `a @ b`, `-a`, `a[0, 1:]`), as TensorFlow's do.
    """

    __slots__ = ("op", "value_index", "dtype", "_shape", "_consumers", "__weakref__")
    __array_priority__ = 100          # numpy defers `array + tensor` to Tensor.__radd__

    def __init__(self, op, value_index, dtype, shape):
        self.op, self.value_index, self.dtype = op, value_index, dtype
        self._shape = as_shape(shape)
        self._consumers = []

    @property
    def name(self):
        return f"{self.op.name}:{self.value_index}"

    @property
    def graph(self):
        return self.op.graph

    @property
    def device(self):
        return self.op.device

    @property
    def shape(self):
        return self._shape

    def get_shape(self):
        return self._shape

    def set_shape(self, shape):
        """Refine the static shape (e.g. a placeholder's batch size); must be compatible."""
        shape = as_shape(shape)
        if not self._shape.is_compatible_with(shape):
            raise ValueError(f"Tensor {self.name} has shape {tf1_str(self._shape)}, which is not compatible "
                             f"with the requested shape {tf1_str(shape)}.")
        self._shape = self._shape.merge_with(shape)

    @property
    def ndim(self):
        return self._shape.rank

    def consumers(self):
        return list(self._consumers)

    def eval(self, feed_dict=None, session=None):
        """The value of this tensor in `session` (default: the default session), as numpy."""
        return session_for(session, self, "eval()").run(self, feed_dict)

    def _as_graph_element(self):
        return self

    def __repr__(self):
        return f"<tf.Tensor '{self.name}' shape={self.op.graph.shape_str(self._shape)} dtype={_dt.name(self.dtype)}>"

    def __str__(self):
        return f'Tensor("{self.name}", shape={self.op.graph.shape_str(self._shape)}, dtype={_dt.name(self.dtype)})'

    __hash__ = object.__hash__        # graph tensors are dict keys (feed_dict); == is identity, as in TF1

    def __eq__(self, other):
        eq = self.op.graph.tensor_equality     # inside tf.function, == is elementwise, as in TF2
        return self is other if eq is None or other is None else eq(self, other, True)

    def __ne__(self, other):
        eq = self.op.graph.tensor_equality
        return self is not other if eq is None or other is None else eq(self, other, False)

    def __bool__(self):
        self.op.graph.on_bool(self)       # a traced tf.function raises TF2's OperatorNotAllowedInGraphError
        raise TypeError("Using a `tf.Tensor` as a Python `bool` is not allowed in graph mode: the value is only "
                        "known when a Session runs it. Use `sess.run(t)` to get the value, or build the "
                        "condition into the graph (tf.where, tf.cond).")

    def __len__(self):
        raise TypeError(f"len is not well defined for symbolic Tensors ({self.name}); use tf.shape(x)[0] "
                        "or x.shape[0] for the static size.")

    def __iter__(self):
        n = self._shape[0] if self._shape.rank else None
        if n is None:
            raise TypeError(f"Tensor {self.name} of shape {tf1_str(self._shape)} is not iterable in graph mode: "
                            "its first dimension is not known before it runs.")
        return (self[i] for i in range(n))


class Operation:
    """A node of the graph: `type` (e.g. 'MatMul'), `inputs`, `attrs`, `outputs`, `device`."""

    __slots__ = ("graph", "name", "type", "inputs", "control_inputs", "attrs", "outputs", "device", "_id",
                 "defined_at", "__weakref__")

    def __init__(self, graph, name, op_type, inputs, attrs, control_inputs=(), device_spec=""):
        self.graph, self.name, self.type = graph, name, op_type
        self.inputs = tuple(inputs)
        self.attrs = dict(attrs or {})
        self.control_inputs = list(control_inputs)
        self.device = device_spec or ""
        self.outputs = ()
        self._id = len(graph._ops)
        self.defined_at = None

    def get_attr(self, name):
        try:
            return self.attrs[name]
        except KeyError:
            raise ValueError(f"Operation '{self.name}' ({self.type}) has no attr named '{name}'; it has "
                             f"{sorted(self.attrs)}.") from None

    def values(self):
        return self.outputs

    def run(self, feed_dict=None, session=None):
        """Run this op in `session` (default: the default session); returns None."""
        session_for(session, self, "run()").run(self, feed_dict)

    def _as_graph_element(self):
        return self

    def __repr__(self):
        return f"<tf.Operation '{self.name}' type={self.type}>"

    __str__ = __repr__


class Graph:
    """A TF1 graph: operations in creation order, unique names, scopes and collections.

    `with g.as_default():` makes `g` the graph new ops go into; `g.summary()` prints the nodes
    as a table; `g.get_tensor_by_name('x-input:0')` finds a tensor by its name.
    """

    shape_str = staticmethod(tf1_str)    # '(?, 2)'; a TF2 function graph prints '(None, 2)'
    tensor_equality = None               # TF1 graphs: `a == b` is identity; a function graph sets it

    def on_bool(self, tensor):
        """Called before `bool(tensor)` raises; a function graph raises its own error instead."""

    def __init__(self):
        self._ops = []
        self._by_name = {}
        self._names_in_use = {}
        self._name_stack = ""
        self._device_stack = []
        self._control_stack = []
        self._collections = {}
        self._finalized = False
        self.seed = None                  # the graph-level random seed (tf.set_random_seed)
        self._seed_counter = 0            # op seeds handed out when only the graph seed is set
        self._var_store = {}              # full name -> Variable (tf.get_variable)
        self._var_scopes = []             # stack of VariableScope

    # -- building ---------------------------------------------------------------------------------
    def unique_name(self, name, mark_as_used=True):
        """`name` under the current name scope, made unique as TF does ('x' -> 'x_1' -> 'x_2')."""
        if self._name_stack:
            name = self._name_stack + "/" + name
        key = name.lower()                 # TF counts names case-insensitively
        i = self._names_in_use.get(key, 0)
        if mark_as_used:
            self._names_in_use[key] = i + 1
        if i > 0:
            base = key
            while key in self._names_in_use:
                key = f"{base}_{i}"
                i += 1
            if mark_as_used:
                self._names_in_use[key] = 1
            name = f"{name}_{i - 1}"
        return name

    def create_op(self, op_type, inputs, attrs=None, name=None):
        """Add an op of `op_type` (a registered type) and return it; its outputs' dtypes and static
        shapes come from the type's shape function, which raises ValueError on incompatible inputs."""
        if self._finalized:
            raise RuntimeError("Graph is finalized and cannot be modified.")
        spec = REGISTRY.get(op_type)
        if spec is None:
            raise ValueError(f"Unknown op type {op_type!r}; registered types: {sorted(REGISTRY)}.")
        lifts = getattr(self, "lifts", None)
        for i, t in enumerate(inputs):
            if t.op.graph is not self and not (i in spec.refs and lifts is not None and lifts(t.op.graph)):
                raise ValueError(f"Tensor {t.name} must be from the same graph as the op being built "
                                 f"({op_type}). Build every op of one model inside the same `with g.as_default():`.")
        if name:
            check_name(name, bool(self._name_stack))
        name = name or op_type
        if name.endswith("/"):             # an exact name from a name scope ("random_normal/")
            name = name[:-1]
            self._names_in_use.setdefault(name.lower(), 1)
        else:
            name = self.unique_name(name)
        control = []
        for deps in self._control_stack:
            control.extend(d for d in deps if d not in control)
        op = Operation(self, name, op_type, inputs, attrs, control,
                       self._device_stack[-1] if self._device_stack else "")
        outs = spec.infer(op)
        op.outputs = tuple(Tensor(op, i, dtype, shape) for i, (shape, dtype) in enumerate(outs))
        for t in op.inputs:
            t._consumers.append(op)
        op.defined_at = _user_frame()
        self._ops.append(op)
        self._by_name[name] = op
        return op

    @contextlib.contextmanager
    def as_default(self):
        """Make this graph the default graph inside the `with` block."""
        _graph_stack.append(self)
        try:
            yield self
        finally:
            _graph_stack.remove(self) if _graph_stack[-1] is not self else _graph_stack.pop()

    @contextlib.contextmanager
    def name_scope(self, name):
        """Prefix the names of ops built inside with `name/` (made unique: 'layer', 'layer_1');
        a name ending in '/' re-enters that exact scope; None or '' goes back to the top level."""
        old = self._name_stack
        if name:
            check_name(name, bool(old))
        if not name:
            new, scope = "", ""
        elif name.endswith("/"):
            new, scope = name[:-1], name
        else:
            new = self.unique_name(name)
            scope = new + "/"
        self._name_stack = new
        try:
            yield scope
        finally:
            self._name_stack = old

    def get_name_scope(self):
        return self._name_stack

    @contextlib.contextmanager
    def device(self, device_name_or_function):
        """Place ops built inside on a device ('/gpu:0', '/cpu:0'); None clears the placement."""
        if callable(device_name_or_function):
            raise NotImplementedError("Device functions are not supported; pass a device string such as "
                                      "'/gpu:0' or '/cpu:0'.")
        self._device_stack.append(device_name_or_function or "")
        try:
            yield
        finally:
            self._device_stack.pop()

    @contextlib.contextmanager
    def control_dependencies(self, control_inputs):
        """Ops built inside run only after `control_inputs` (ops or tensors); None clears them."""
        if control_inputs is None:
            saved, self._control_stack = self._control_stack, []
            try:
                yield
            finally:
                self._control_stack = saved
            return
        ops = []
        for c in control_inputs:
            c = getattr(c, "_as_graph_element", lambda: c)()
            c = c.op if isinstance(c, Tensor) else c
            if not isinstance(c, Operation):
                raise TypeError(f"Control input must be an Operation or a Tensor; got {c!r}.")
            ops.append(c)
        self._control_stack.append(ops)
        try:
            yield
        finally:
            self._control_stack.pop()

    def finalize(self):
        self._finalized = True

    @property
    def finalized(self):
        return self._finalized

    @property
    def version(self):
        return len(self._ops)

    def as_graph_def(self, from_version=None, add_shapes=False):
        """This graph as TensorFlow's GraphDef protobuf (see course.graph.graph_def)."""
        return to_graph_def(self, add_shapes=add_shapes)

    # -- lookup ---------------------------------------------------------------------------------
    def get_operations(self):
        return list(self._ops)

    def get_operation_by_name(self, name):
        if not isinstance(name, str):
            raise TypeError(f"Operation names are strings (or similar), not {type(name).__name__}.")
        if ":" in name:
            raise ValueError(f"Name '{name}' appears to refer to a Tensor, not a Operation.")
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"The name '{name}' refers to an Operation not in the graph.") from None

    def get_tensor_by_name(self, name):
        if not isinstance(name, str):
            raise TypeError(f"Tensor names are strings (or similar), not {type(name).__name__}.")
        return self.as_graph_element(name, allow_tensor=True, allow_operation=False)

    def as_graph_element(self, obj, allow_tensor=True, allow_operation=True):
        """The Tensor or Operation `obj` names or is, checked to belong to this graph."""
        if isinstance(obj, str):
            return self._by_string(obj, allow_tensor, allow_operation)
        conv = getattr(obj, "_as_graph_element", None)
        if conv is not None:
            obj = conv()
        if isinstance(obj, Tensor) and allow_tensor:
            if obj.graph is not self:
                raise ValueError(f"Tensor {obj} is not an element of this graph.")
            return obj
        if isinstance(obj, Operation) and allow_operation:
            if obj.graph is not self:
                raise ValueError(f"Operation {obj!r} is not an element of this graph.")
            return obj
        kinds = " or ".join(k for k, ok in (("Tensor", allow_tensor), ("Operation", allow_operation)) if ok)
        raise TypeError(f"Can not convert a {type(obj).__name__} into a {kinds}.")

    def _by_string(self, name, allow_tensor, allow_operation):
        if ":" in name:
            if not allow_tensor:
                raise ValueError(f"Name '{name}' appears to refer to a Tensor, not a Operation.")
            op_name, _, index = name.rpartition(":")
            try:
                index = int(index)
            except ValueError:
                raise ValueError(f"The name '{name}' looks a like a Tensor name, but is not a valid one. Tensor "
                                 "names must be of the form \"<op_name>:<output_index>\".") from None
            op = self._by_name.get(op_name)
            if op is None:
                raise KeyError(f"The name '{name}' refers to a Tensor which does not exist. The operation, "
                               f"'{op_name}', does not exist in the graph.")
            if not 0 <= index < len(op.outputs):
                raise KeyError(f"The name '{name}' refers to a Tensor which does not exist. The operation, "
                               f"'{op_name}', exists but only has {len(op.outputs)} outputs.")
            return op.outputs[index]
        if not allow_operation:
            if name in self._by_name:
                raise ValueError(f"The name '{name}' refers to an Operation, not a Tensor. Tensor names must be of "
                                 f"the form \"<op_name>:<output_index>\". Did you mean '{name}:0'?")
            raise ValueError(f"The name '{name}' looks like an (invalid) Operation name, not a Tensor. Tensor "
                             "names must be of the form \"<op_name>:<output_index>\".")
        op = self._by_name.get(name)
        if op is None:
            raise KeyError(f"The name '{name}' refers to an Operation not in the graph.")
        return op

    # -- collections ----------------------------------------------------------------------------
    def add_to_collection(self, name, value):
        self._collections.setdefault(name, []).append(value)

    def add_to_collections(self, names, value):
        for n in ([names] if isinstance(names, str) else names):
            self.add_to_collection(n, value)

    def get_collection(self, name, scope=None):
        items = list(self._collections.get(name, []))
        if scope is None:
            return items
        return [v for v in items if getattr(v, "name", "").startswith(scope)]

    def get_collection_ref(self, name):
        return self._collections.setdefault(name, [])

    def clear_collection(self, name):
        self._collections.pop(name, None)

    def get_all_collection_keys(self):
        return list(self._collections)

    # -- showing ----------------------------------------------------------------------------------
    def table(self, ops=None) -> str:
        """The nodes as a text table: name, op type, inputs, output shape and dtype, device."""
        ops = self._ops if ops is None else ops
        rows = [("name", "op", "inputs", "output", "device")]
        for op in ops:
            outs = ", ".join(f"{tf1_str(t.shape)} {_dt.name(t.dtype)}" for t in op.outputs) or "-"
            ins = ", ".join(t.name for t in op.inputs) + "".join(f", ^{c.name}" for c in op.control_inputs)
            rows.append((op.name, op.type, ins or "-", outs, op.device or ""))
        widths = [min(max(len(r[i]) for r in rows), 48) for i in range(5)]
        lines = ["  ".join(c[:48].ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
        lines.insert(1, "  ".join("-" * w for w in widths))
        return "\n".join(lines)

    def summary(self, print_fn=None):
        """Print `table()` (like Keras' model.summary()); `print_fn` receives each line."""
        for line in self.table().splitlines():
            (print_fn or print)(line)

    def __repr__(self):
        return f"<course.graph.Graph object at {id(self):#x} with {len(self._ops)} ops>"


_global_graph = [Graph()]
_graph_stack = []


def get_default_graph() -> Graph:
    """The graph new ops go into: the innermost `as_default()` graph, else the global one."""
    return _graph_stack[-1] if _graph_stack else _global_graph[0]


def reset_default_graph():
    """Replace the global default graph by a new, empty one (outside any `as_default` block)."""
    if _graph_stack:
        raise AssertionError("Do not use tf.reset_default_graph() to clear nested graphs. If you need a cleared "
                             "graph, exit the nesting and create a new graph.")
    _global_graph[0] = Graph()


_session_stack = []


def get_default_session():
    """The innermost session entered with `with sess.as_default():` (or `with sess:`), else None."""
    return _session_stack[-1] if _session_stack else None


@contextlib.contextmanager
def default_session(sess):
    """Make `sess` the default session inside the `with` block (`Session.as_default`)."""
    _session_stack.append(sess)
    try:
        yield sess
    finally:
        if sess in _session_stack:
            _session_stack.remove(sess)


def session_for(session, element, what):
    """`session`, else the default session, checked to run `element`'s graph (`t.eval()`, `op.run()`)."""
    sess = session or get_default_session()
    if sess is None:
        raise ValueError(f"Cannot evaluate tensor using `{what}`: No default session is registered. Use `with "
                         "sess.as_default()` or pass an explicit session to `eval(session=sess)`")
    if element.graph is not sess.graph:
        raise ValueError(f"Cannot use the given session to evaluate tensor: the tensor's graph is different from "
                         f"the session's graph ({element!r}).")
    return sess


def leave_defaults(graph, session):
    """Take `graph` and `session` off the default stacks wherever they are (an InteractiveSession closing)."""
    if session in _session_stack:
        _session_stack.remove(session)
    if graph is not None and graph in _graph_stack:
        _graph_stack.remove(graph)


def graph_of(values, default=None) -> Graph:
    """The graph that the tensors/ops among `values` belong to (all the same), else the default."""
    found = None
    lifts = getattr(get_default_graph(), "lifts", None)   # a cond/while branch: outer tensors are captured
    for v in values:
        conv = getattr(v, "_as_graph_element", None)
        if conv is None:
            continue
        g = conv().graph
        if lifts is not None and lifts(g):
            g = get_default_graph()
        if found is None:
            found, first = g, v
        elif g is not found:
            raise ValueError(f"{v} must be from the same graph as {first}.")
    return found or default or get_default_graph()


def name_scope(name, default_name=None, values=None):
    """TF1's `tf.name_scope(name, default_name=None, values=None)` on the values' graph."""
    g = graph_of(values or ())
    return g.name_scope(name if name is not None else default_name)


def control_dependencies(control_inputs):
    return get_default_graph().control_dependencies(control_inputs)


def device(device_name_or_function):
    return get_default_graph().device(device_name_or_function)
