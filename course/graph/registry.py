"""The op registry: for each op type, how to infer its outputs, run it, and differentiate it.

An op type registers three things, as TensorFlow's C++ op registry and `@ops.RegisterGradient`
do between them:

    infer(op)            -> [(static shape, dtype), ...] for its outputs; raises ValueError with
                            TF's message when the inputs' shapes cannot work (build time);
    make(op, rt, device) -> a callable taking the input values (torch tensors) and returning the
                            output value(s): the op's kernel, specialised to its attributes once
                            per session (`rt` holds that session's variables and random streams);
    gradient(op, *grads) -> one symbolic gradient per input (graph tensors or None), built from
                            other ops: the graph knows its backward before anything runs.

`alias=True` marks ops whose output *is* their first input (Identity and friends); the compiled
plan passes the value through instead of calling anything. `refs` lists inputs that name a
variable to write (Assign's `ref`) rather than values to read.

The gradient functions of the op families are registered by `math_grad`, `array_grad` and
`nn_grad` (as TensorFlow splits them); `gradients` imports those, so they are in place whenever
a backward pass is built. The few pieces both the op modules and the executor need (the one-output
shape-function result, the Const kernel, the missing-feed message) live here, below both.
"""
from course.framework import dtypes as _dt
from course.framework.shapes import brackets

__all__ = ["OpSpec", "REGISTRY", "GRADIENTS", "register_op", "RegisterGradient", "NotDifferentiable",
           "get_gradient_function", "one_output", "ConstKernel", "feed_missing_message"]

REGISTRY = {}
GRADIENTS = {}


class OpSpec:
    __slots__ = ("type", "infer", "make", "stateful", "alias", "refs", "doc")

    def __init__(self, op_type, infer, make, stateful=False, alias=False, refs=(), doc=""):
        self.type, self.infer, self.make = op_type, infer, make
        self.stateful, self.alias, self.refs, self.doc = stateful, alias, tuple(refs), doc

    def __repr__(self):
        return f"OpSpec({self.type!r}, stateful={self.stateful})"


def register_op(op_type, *, infer, make=None, kernel=None, stateful=False, alias=False, refs=(), doc=""):
    """Register `op_type`. Give `kernel` (op -> callable, session-independent) or `make`
    (op, rt, device -> callable) when the kernel needs the session's state or the device."""
    if (kernel is None) == (make is None):
        raise ValueError(f"register_op({op_type!r}): give exactly one of kernel= or make=.")
    if make is None:
        make = lambda op, rt, device, _k=kernel: _k(op)   # noqa: E731
    REGISTRY[op_type] = OpSpec(op_type, infer, make, stateful, alias, refs, doc)
    return REGISTRY[op_type]


class RegisterGradient:
    """Decorator registering the gradient function of an op type (TF's `@ops.RegisterGradient`):

        @RegisterGradient("Log")
        def _log_grad(op, grad):
            return [grad / op.inputs[0]]          # d log(x) = dx / x
    """

    def __init__(self, op_type):
        self.op_type = op_type

    def __call__(self, fn):
        GRADIENTS[self.op_type] = fn
        return fn


def NotDifferentiable(op_type):     # noqa: N802  (TF's name)
    """Declare that `op_type` has no gradient (its inputs get None)."""
    GRADIENTS[op_type] = None


def get_gradient_function(op):
    if op.type not in GRADIENTS:
        raise LookupError(f"No gradient defined for operation '{op.name}' (op type: {op.type}). Stop the "
                          "gradient with tf.stop_gradient or differentiate with respect to other tensors.")
    return GRADIENTS[op.type]


def one_output(shape, dtype):
    """A shape function's result for an op with one output."""
    return [(shape, dtype)]


class ConstKernel:
    """Kernel of a Const: returns the same tensor each run (the compiled plan inlines `.value`)."""
    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    def __call__(self):
        return self.value


def feed_missing_message(op):
    """TF's message for a Placeholder `op` that a run needs but nobody fed."""
    t = op.outputs[0]
    return (f"You must feed a value for placeholder tensor '{op.name}' with dtype {_dt.proto_name(t.dtype)}"
            + (f" and shape {brackets(t.shape)}" if t.shape.rank is not None else ""))
