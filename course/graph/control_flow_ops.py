"""Graph control flow, one import: `tf.cond`, `tf.case`, `tf.switch_case` (`cond_ops`) and
`tf.while_loop` (`while_ops`), with the tracing helpers they share (`control_flow_util`).

Importing this module gives `tf.cond`, `tf.while_loop` and friends (and `tf.range`) their graph forms
inside `tf.function` and `compat.v1` graphs.
"""
from course.graph.cond_ops import case, cond, switch_case
from course.graph.control_flow_util import bind_captures, building, flatten_values, trace, trace_loop_body
from course.graph.dispatch import GRAPH_FORMS
from course.graph.range_ops import range_
from course.graph.while_ops import check_loop_outputs, while_loop, while_loop_v1

__all__ = ["cond", "case", "switch_case", "while_loop", "while_loop_v1", "building", "flatten_values", "trace",
           "trace_loop_body", "bind_captures", "check_loop_outputs"]

GRAPH_FORMS.update({"cond": cond, "case": case, "switch_case": switch_case, "while_loop": while_loop,
                    "range": range_})
