"""`tf.debugging` assertions in a graph: an `Assert` op that checks each time the graph runs.

    tf.debugging.assert_greater(x, 0.0)     # Greater, All, Assert
An `Assert` is a side effect: a traced function keeps it even when nothing uses it, in program
order (a `tf.print` before it prints first), and raises InvalidArgumentError naming the node.
"""
from course.graph import math_ops, reduce_ops
from course.graph.array_ops import convert_to_tensor, make_op
from course.framework.errors import InvalidArgumentError, node_note
from course.graph.graph import Tensor, get_default_graph
from course.graph.registry import NotDifferentiable, register_op
from course.graph.resource_ops import SIDE_EFFECTS
from course.tape.debugging import COMPARISONS, failure_text

__all__ = ["Assert", "FORMS"]


def _assert_kernel(op):
    template, symbol, message = op.attrs["template"], op.attrs["symbol"], op.attrs["message"]

    def check(condition, *values):
        if bool(condition):
            return
        if symbol is not None:
            x, y = (v.detach().cpu().numpy() for v in values)
            text = failure_text(symbol, x, y, message)
        else:
            it = iter(values)
            text = "assertion failed: " + " ".join(
                str(next(it).detach().cpu().numpy()) if slot else str(v) for slot, v in template)
        raise InvalidArgumentError(None, op, text + node_note(op))
    return check


register_op("Assert", infer=lambda op: [], kernel=_assert_kernel, stateful=True,
            doc="Raise InvalidArgumentError when input 0 (a boolean) is false; the rest is shown.")
NotDifferentiable("Assert")
SIDE_EFFECTS.add("Assert")


def Assert(condition, data, summarize=None, name=None):   # noqa: N802 (TF's name)
    template, tensors = [], []
    for d in data:
        if isinstance(d, Tensor) or hasattr(d, "shape"):
            template.append((True, None))
            tensors.append(convert_to_tensor(d))
        else:
            template.append((False, d))
    cond = convert_to_tensor(condition)
    return make_op("Assert", [cond] + tensors, {"template": template, "symbol": None, "message": None},
                   name or "Assert", graph=get_default_graph())


_GRAPH_COMPARE = {"assert_equal": math_ops.equal, "assert_greater": math_ops.greater,
                  "assert_greater_equal": math_ops.greater_equal, "assert_less": math_ops.less,
                  "assert_less_equal": math_ops.less_equal}


def _compare(kind):
    symbol = COMPARISONS[kind][0]

    def check(x, y, message=None, summarize=None, name=None):
        x = convert_to_tensor(x)
        y = convert_to_tensor(y, dtype=x.dtype) if not isinstance(y, Tensor) else y
        holds = reduce_ops.reduce_all(_GRAPH_COMPARE[kind](x, y))
        return make_op("Assert", [holds, x, y], {"template": None, "symbol": symbol, "message": message},
                       name or kind, graph=get_default_graph())
    return check


def _against_zero(kind):
    compare = _compare(kind)
    return lambda x, message=None, summarize=None, name=None: compare(x, 0, message, name=name)


FORMS = {"debugging.Assert": Assert, "Assert": Assert}
for _kind in COMPARISONS:
    FORMS["debugging." + _kind] = _compare(_kind)
for _kind, _base in (("assert_positive", "assert_greater"), ("assert_negative", "assert_less"),
                     ("assert_non_negative", "assert_greater_equal"), ("assert_non_positive", "assert_less_equal")):
    FORMS["debugging." + _kind] = _against_zero(_base)
