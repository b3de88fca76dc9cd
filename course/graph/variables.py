"""TF1 variables: state that lives in a Session, initialised by running an op.

    w = tf.Variable(tf.random_normal([2, 3], stddev=1, seed=1))    # builds 3 ops:
        Variable        (VariableV2)  the storage, one per session
        Variable/Assign (Assign)      writes the initial value: w.initializer
        Variable/read   (Identity)    what `tf.matmul(x, w)` reads
    sess.run(tf.global_variables_initializer())                     # runs every Assign

Reading a variable before its initializer ran raises FailedPreconditionError
("Attempting to use uninitialized value Variable"). `tf.get_variable` and `tf.variable_scope`
share variables by name.
"""
import contextlib

import torch

from course.framework import dtypes as _dt
from course.framework.errors import InvalidArgumentError, node_note
from course.framework.shapes import TensorShape, as_shape, brackets, tf1_str
from course.graph import initializers as init_ops
from course.graph.array_ops import convert_to_tensor, group
from course.graph.graph import GraphKeys, Tensor, get_default_graph, session_for
from course.graph.math_ops import TENSOR_OPERATORS
from course.graph.registry import REGISTRY, NotDifferentiable, one_output, register_op
from course.graph.resource_ops import SIDE_EFFECTS

__all__ = ["Variable", "VariableScope", "variable_scope", "get_variable", "get_variable_scope", "AUTO_REUSE",
           "global_variables", "trainable_variables", "local_variables", "model_variables", "all_variables",
           "global_variables_initializer", "initialize_all_variables", "variables_initializer",
           "local_variables_initializer", "initialize_local_variables", "is_variable_initialized", "assign",
           "assign_add", "assign_sub"]


# -- the ops ------------------------------------------------------------------------------------------
register_op("VariableV2", infer=lambda op: one_output(op.attrs["shape"], op.attrs["dtype"]),
            make=lambda op, rt, device: rt.slot(op).read, stateful=True,
            doc="The variable's storage in the running session; reading it before initialisation fails.")
NotDifferentiable("VariableV2")


def _assign_make(op, rt, device):
    slot = rt.slot(op.inputs[0].op)
    var_shape = op.inputs[0].shape
    validate = op.attrs["validate_shape"]
    mode = op.attrs["mode"]

    def assign(value):
        cur = slot.value
        if mode != "set":
            cur = slot.read()
            if mode == "add":
                return cur.add_(value)
            return cur.sub_(value)
        if cur is not None and cur.shape == value.shape:
            return cur.copy_(value)                         # in place: readers keep seeing the storage
        if validate and not var_shape.is_compatible_with(TensorShape(tuple(value.shape))):
            raise InvalidArgumentError(None, op, "Assign requires shapes of both tensors to match. lhs shape= "
                                       f"{brackets(var_shape)} rhs shape= {brackets(tuple(value.shape))}"
                                       f"{node_note(op)}")
        slot.value = value.to(device=device).clone(memory_format=torch.contiguous_format)
        rt.version += 1
        return slot.value
    return assign


SIDE_EFFECTS.update({"Assign", "AssignAdd", "AssignSub"})     # in a tf.cond branch or a loop body they run
for _t in ("Assign", "AssignAdd", "AssignSub"):
    register_op(_t, infer=lambda op: one_output(op.inputs[0].shape, op.inputs[0].dtype), make=_assign_make,
                stateful=True, refs=(0,))
    NotDifferentiable(_t)


def _initialized_value_make(op, rt, device):
    slot = rt.slot(op.inputs[0].op)
    return lambda initial: initial if slot.value is None else slot.value


register_op("InitializedValue", infer=lambda op: one_output(op.inputs[0].shape, op.inputs[0].dtype),
            make=_initialized_value_make, stateful=True, refs=(0,),
            doc="The variable's value once initialised, else input 1 (its initial value): what TF builds as "
                "cond(is_variable_initialized(v), v.read_value, lambda: v.initial_value).")
NotDifferentiable("InitializedValue")


register_op("IsVariableInitialized", infer=lambda op: one_output(TensorShape([]), torch.bool),
            make=lambda op, rt, device: (lambda: torch.tensor(rt.slot(op.inputs[0].op).value is not None)),
            stateful=True, refs=(0,))
NotDifferentiable("IsVariableInitialized")


def _assign_op(ref, value, mode, validate_shape=True, name=None):
    var = ref if isinstance(ref, Variable) else None
    ref_t = var._variable if var is not None else ref
    if not isinstance(ref_t, Tensor) or ref_t.op.type != "VariableV2":
        raise TypeError(f"assign needs a Variable (or its ref tensor); got {ref!r}.")
    g = get_default_graph()                 # a tf.cond branch or a while_loop body assigns from inside
    if g is not ref_t.graph and not getattr(g, "lifts", lambda _: False)(ref_t.graph):
        g = ref_t.graph
    with g.as_default():
        value = convert_to_tensor(value, dtype=ref_t.dtype)
    if validate_shape and not ref_t.shape.is_compatible_with(value.shape):
        raise ValueError(f"Shapes {tf1_str(ref_t.shape)} and {tf1_str(value.shape)} are incompatible: the value "
                         f"assigned to {ref_t.op.name} must have the variable's shape (or pass validate_shape=False).")
    op_type = {"set": "Assign", "add": "AssignAdd", "sub": "AssignSub"}[mode]
    return g.create_op(op_type, [ref_t, value], {"validate_shape": validate_shape, "mode": mode},
                       name or op_type).outputs[0]


def assign(ref, value, validate_shape=None, use_locking=None, name=None):
    return _assign_op(ref, value, "set", True if validate_shape is None else validate_shape, name)


def assign_add(ref, value, use_locking=None, name=None):
    return _assign_op(ref, value, "add", True, name)


def assign_sub(ref, value, use_locking=None, name=None):
    return _assign_op(ref, value, "sub", True, name)


# -- the Python object ----------------------------------------------------------------------------------
class Variable:
    """`tf.Variable(initial_value, trainable=True, ..., name=None, dtype=None)` in a graph.

    Use it like a tensor (`tf.matmul(x, w)`, `w + 1`, `w[0]`): that reads `Variable/read`.
    `w.initializer` is the Assign op; `w.assign(v)`, `w.assign_add(d)` build update ops;
    `w.eval()` / `sess.run(w)` read the current value.
    """

    def __init__(self, initial_value=None, trainable=None, collections=None, validate_shape=True,
                 caching_device=None, name=None, variable_def=None, dtype=None, expected_shape=None,
                 import_scope=None, constraint=None, use_resource=None, synchronization=None, aggregation=None,
                 shape=None):
        if initial_value is None:
            raise ValueError("initial_value must be specified (e.g. tf.Variable(tf.zeros([784, 10]))).")
        if variable_def is not None:
            raise NotImplementedError("Variable(variable_def=...) (restoring from a protocol buffer) is not "
                                      "supported; build the variable and restore its value with tf.train.Saver.")
        self._trainable = True if trainable is None else bool(trainable)
        g = initial_value.graph if isinstance(initial_value, Tensor) else get_default_graph()
        with g.as_default(), g.name_scope(name or "Variable") as scope:
            if callable(initial_value):
                initial_value = initial_value()
            init = convert_to_tensor(initial_value, dtype=dtype, name="initial_value")
            var_shape = as_shape(shape) if shape is not None else (init.shape if validate_shape else TensorShape(None))
            if validate_shape and not var_shape.is_compatible_with(init.shape):
                raise ValueError(f"Variable {scope[:-1]}: the initial value has shape {tf1_str(init.shape)}, "
                                 f"which does not fit the declared shape {tf1_str(var_shape)}.")
            self._variable = g.create_op("VariableV2", [], {"shape": var_shape, "dtype": init.dtype},
                                         scope).outputs[0]
            init = _guard_uninitialized_reads(init, scope[:-1].rsplit("/", 1)[-1])
            self._initializer_op = g.create_op("Assign", [self._variable, init],
                                               {"validate_shape": validate_shape, "mode": "set"}, "Assign")
            self._snapshot = g.create_op("Identity", [self._variable], None, "read").outputs[0]
        self._initial_value = init
        self._constraint = constraint
        collections = [GraphKeys.GLOBAL_VARIABLES] if collections is None else list(collections)
        if self._trainable and GraphKeys.TRAINABLE_VARIABLES not in collections:
            collections.append(GraphKeys.TRAINABLE_VARIABLES)
        for c in dict.fromkeys(collections):
            g.add_to_collection(c, self)

    # -- identity --
    @property
    def name(self):
        return self._variable.name

    @property
    def op(self):
        return self._variable.op

    @property
    def graph(self):
        return self._variable.graph

    @property
    def dtype(self):
        return self._variable.dtype

    @property
    def shape(self):
        return self._variable.shape

    def get_shape(self):
        return self._variable.shape

    @property
    def device(self):
        return self._variable.op.device

    @property
    def trainable(self):
        return self._trainable

    @property
    def initializer(self):
        return self._initializer_op

    @property
    def initial_value(self):
        return self._initial_value

    def initialized_value(self):
        """This variable's value once initialised, else its initial value (TF builds a tf.cond): what an
        initial value built from another variable reads, so one initializer run sets both."""
        with self.graph.as_default(), self.graph.name_scope(None):
            return self.graph.create_op("InitializedValue", [self._variable, self._initial_value], {},
                                        self.op.name + "/InitializedValue").outputs[0]

    @property
    def constraint(self):
        return self._constraint

    # -- values --
    def value(self):
        return self._snapshot

    def read_value(self):
        return self.graph.create_op("Identity", [self._variable], None, self.op.name + "/read").outputs[0]

    def _graph_tensor(self):
        return self._snapshot

    def _as_graph_element(self):
        return self._variable

    def _ref(self):
        return self._variable

    def eval(self, session=None):
        return self._variable.eval(session=session)

    def assign(self, value, use_locking=False, name=None, read_value=True):
        return _assign_op(self, value, "set", True, name)

    def assign_add(self, delta, use_locking=False, name=None, read_value=True):
        return _assign_op(self, delta, "add", True, name)

    def assign_sub(self, delta, use_locking=False, name=None, read_value=True):
        return _assign_op(self, delta, "sub", True, name)

    def load(self, value, session=None):
        """Write `value` into this variable in `session` (default session), without new ops."""
        sess = session_for(session, self._variable, "load()")
        slot = sess._rt.slot(self.op)
        t = torch.as_tensor(value, dtype=self.dtype, device=sess._rt.device_for(self.op))
        if slot.value is not None and slot.value.shape == t.shape:
            slot.value.copy_(t)
        else:
            slot.value = t.clone()
            sess._rt.version += 1

    def __repr__(self):
        return f"<tf.Variable '{self.name}' shape={tf1_str(self.shape)} dtype={_dt.name(self.dtype)}_ref>"

    __hash__ = object.__hash__

    def __bool__(self):
        return self._snapshot.__bool__()


def _guard_uninitialized_reads(init, name):
    """`init` with every read of another variable replaced by that variable's `initialized_value()`, as
    TF's `_try_guard_against_uninitialized_dependencies` does: `tf.Variable(w * 2)` then initialises in
    the same `global_variables_initializer()` run as `w`, whichever initializer runs first. Only the ops
    between a variable and `init` are copied (named '<op>_<name>'); an init reading no variable is kept."""
    g = init.graph
    variables = {v.op: v for key in (GraphKeys.GLOBAL_VARIABLES, GraphKeys.LOCAL_VARIABLES)
                 for v in g.get_collection(key) if isinstance(v, Variable)}
    if not variables:
        return init
    copies = {}

    def op_copy(op):
        if op in copies:
            return copies[op]
        copies[op] = op                                   # an op on a cycle (none in a DAG) stays as it is
        if op.type == "VariableV2":
            v = variables.get(op)
            new = op if v is None else v.initialized_value().op
        elif REGISTRY[op.type].refs or op.type in ("If", "StatelessIf", "Case", "StatelessCase", "While",
                                                    "StatelessWhile"):
            new = op                                      # writes, and control flow (TF stops at `If` too)
        else:
            inputs = [tensor_copy(t) for t in op.inputs]
            if all(a is b for a, b in zip(inputs, op.inputs)):
                new = op
            else:
                new = g.create_op(op.type, inputs, dict(op.attrs), f"{op.name}_{name}".replace(":", "_"))
        copies[op] = new
        return new

    def tensor_copy(t):
        new = op_copy(t.op)
        return t if new is t.op else new.outputs[t.value_index]

    return tensor_copy(init)


def _delegate(name):
    f = TENSOR_OPERATORS[name]
    return lambda self, *args: f(self._snapshot, *args)


for _name in TENSOR_OPERATORS:
    setattr(Variable, _name, _delegate(_name))


# -- collections and initializers ---------------------------------------------------------------------
def global_variables(scope=None):
    return get_default_graph().get_collection(GraphKeys.GLOBAL_VARIABLES, scope)


all_variables = global_variables


def trainable_variables(scope=None):
    return get_default_graph().get_collection(GraphKeys.TRAINABLE_VARIABLES, scope)


def local_variables(scope=None):
    return get_default_graph().get_collection(GraphKeys.LOCAL_VARIABLES, scope)


def model_variables(scope=None):
    return get_default_graph().get_collection(GraphKeys.MODEL_VARIABLES, scope)


def variables_initializer(var_list, name="init"):
    """One op running the initializers of `var_list` (a NoOp when the list is empty)."""
    var_list = list(var_list)
    if not var_list:
        return get_default_graph().create_op("NoOp", [], {}, name)
    with var_list[0].graph.as_default():
        return group(*[v.initializer for v in var_list], name=name)


def global_variables_initializer():
    """The op that initialises every global variable: run it once per session before training."""
    return variables_initializer(global_variables(), name="init")


def initialize_all_variables():
    return global_variables_initializer()


def local_variables_initializer():
    return variables_initializer(local_variables(), name="init_1")


def initialize_local_variables():
    return local_variables_initializer()


def is_variable_initialized(variable):
    return variable.graph.create_op("IsVariableInitialized",
                                    [variable._variable], {}, "IsVariableInitialized").outputs[0]


# -- variable scopes and get_variable ---------------------------------------------------------------------
class _AutoReuse:
    def __repr__(self):
        return "tf.AUTO_REUSE"


AUTO_REUSE = _AutoReuse()


class VariableScope:
    """A prefix for `get_variable` names, with its reuse flag and default initializer."""

    def __init__(self, reuse, name="", initializer=None, dtype=torch.float32, name_scope=""):
        self.name, self.reuse, self.initializer, self.dtype = name, reuse, initializer, dtype
        self.original_name_scope = name_scope

    def reuse_variables(self):
        self.reuse = True

    def set_initializer(self, initializer):
        self.initializer = initializer

    def __repr__(self):
        return f"<VariableScope {self.name!r} reuse={self.reuse}>"


def get_variable_scope():
    g = get_default_graph()
    if not g._var_scopes:
        g._var_scopes.append(VariableScope(False))
    return g._var_scopes[-1]


@contextlib.contextmanager
def variable_scope(name_or_scope, default_name=None, values=None, initializer=None, regularizer=None,
                   caching_device=None, partitioner=None, custom_getter=None, reuse=None, dtype=None,
                   use_resource=None, constraint=None, auxiliary_name_scope=True):
    """Prefix `get_variable` names (and op names) with a scope; `reuse=True` shares variables."""
    g = get_default_graph()
    parent = get_variable_scope()
    if isinstance(name_or_scope, VariableScope):
        # TF opens a new name scope named after the scope's last part ('vs' -> 'vs_1' the second time):
        # ops get fresh names, variables keep the scope's prefix.
        full, ns = name_or_scope.name, name_or_scope.name.split("/")[-1]
        reuse = name_or_scope.reuse if reuse is None else reuse
    else:
        short = name_or_scope or default_name
        if short is None:
            raise ValueError("variable_scope needs name_or_scope or default_name.")
        if not name_or_scope:                          # default names are made unique
            counts = g.__dict__.setdefault("_var_scope_counts", {})
            key = (parent.name + "/" + short) if parent.name else short
            n = counts.get(key, 0)
            counts[key] = n + 1
            short = short if n == 0 else f"{short}_{n}"
        full = f"{parent.name}/{short}" if parent.name else short
        ns = None
    if reuse is None or reuse is False:
        reuse = True if parent.reuse is True else (parent.reuse if parent.reuse is AUTO_REUSE else False)
    scope = VariableScope(reuse, full, initializer or parent.initializer, dtype or parent.dtype)
    g._var_scopes.append(scope)
    try:
        if auxiliary_name_scope:
            with g.name_scope(ns if ns else full.split("/")[-1]) as opened:
                if isinstance(name_or_scope, VariableScope):
                    name_or_scope.original_name_scope = name_or_scope.original_name_scope or opened
                    scope.original_name_scope = name_or_scope.original_name_scope
                else:
                    scope.original_name_scope = opened
                yield scope
        else:
            yield scope
    finally:
        g._var_scopes.pop()


def get_variable(name, shape=None, dtype=None, initializer=None, regularizer=None, trainable=None,
                 collections=None, caching_device=None, partitioner=None, validate_shape=True, use_resource=None,
                 custom_getter=None, constraint=None, synchronization=None, aggregation=None):
    """The variable `<scope>/name`: created (with `initializer`, default glorot_uniform for floats,
    zeros otherwise) unless the scope reuses it, in which case the existing one is returned."""
    g = get_default_graph()
    scope = get_variable_scope()
    full = f"{scope.name}/{name}" if scope.name else name
    store = g._var_store
    if shape is not None and initializer is not None and not callable(initializer):
        raise ValueError("If initializer is a constant, do not specify shape.")
    given = initializer is not None
    if full in store:
        if scope.reuse is False:
            raise ValueError(f"Variable {full} already exists, disallowed. Did you mean to set reuse=True or "
                             "reuse=tf.AUTO_REUSE in VarScope?")
        v = store[full]
        if shape is not None and not v.shape.is_compatible_with(as_shape(shape)):
            raise ValueError(f"Trying to share variable {full}, but specified shape {tf1_str(as_shape(shape))} and "
                             f"found shape {tf1_str(v.shape)}.")
        return v
    if scope.reuse is True:
        raise ValueError(f"Variable {full} does not exist, or was not created with tf.get_variable(). Did you mean "
                         "to set reuse=tf.AUTO_REUSE in VarScope?")
    dtype = _dt.as_torch_dtype(dtype) if dtype is not None else (scope.dtype or torch.float32)
    initializer = initializer if initializer is not None else scope.initializer
    if initializer is None:
        initializer = init_ops.glorot_uniform_initializer() if _dt.is_floating(dtype) else init_ops.zeros_initializer()
    if callable(initializer) and not isinstance(initializer, Tensor):
        if shape is None:
            raise ValueError(f"Variable {full} did not get an initializer, so its `shape` argument must be "
                             "specified." if not given else
                             f"The shape of the new variable {full} must be fully defined, but is None. Give "
                             "shape=[...] to tf.get_variable.")
        shape = list(as_shape(shape))
        init_fn = lambda: initializer(shape, dtype=dtype)   # noqa: E731
        value = init_fn
    else:
        value = initializer
    with g.name_scope(None):
        v = Variable(value, trainable=trainable, collections=collections, validate_shape=validate_shape,
                     name=full, dtype=dtype)
    store[full] = v
    return v
