"""Graph control flow, one import: `tf.cond`, `tf.case`, `tf.switch_case` (`cond_ops`) and
`tf.while_loop` (`while_ops`), with the tracing helpers they share (`control_flow_util`).

Importing this module gives `tf.cond`, `tf.while_loop` and friends (and `tf.range`) their graph forms
inside `tf.function` and `compat.v1` graphs.
"""
import functools

from course.graph.cond_ops import case, cond, switch_case
from course.graph.control_flow_util import bind_captures, building, flatten_values, trace, trace_loop_body
from course.graph.dispatch import GRAPH_FORMS
from course.graph.range_ops import range_
from course.graph.while_ops import check_loop_outputs, while_loop, while_loop_v1

__all__ = ["cond", "case", "switch_case", "while_loop", "while_loop_v1", "cond_v1", "case_v1", "switch_case_v1",
           "building", "flatten_values", "trace",
           "trace_loop_body", "bind_captures", "check_loop_outputs"]

GRAPH_FORMS.update({"cond": cond, "case": case, "switch_case": switch_case, "while_loop": while_loop,
                    "range": range_})


def _graph_mode(fn):
    """`fn` as TF1 code calls it: graph mode even with Python values, in the default graph."""
    @functools.wraps(fn)
    def v1(*args, **kwargs):
        from course.graph.graph import get_default_graph
        with get_default_graph().as_default():
            return fn(*args, **kwargs)
    return v1


@_graph_mode
def cond_v1(pred, true_fn=None, false_fn=None, strict=False, name=None, fn1=None, fn2=None):
    """TF1's `tf.cond`: always an `If` op; a Python bool predicate is refused, as TF1 refuses it."""
    if isinstance(pred, bool):
        raise TypeError("pred must not be a Python bool", pred)
    return cond(pred, true_fn, false_fn, strict, name, fn1, fn2)


case_v1 = _graph_mode(case)
switch_case_v1 = _graph_mode(switch_case)
