"""AutoGraph: Python `if`/`while`/`for` on tensors inside `tf.function` become graph control flow.

    @tf.function
    def collatz(n):
        steps = 0
        while n != 1:                 # n is a tensor: a tf.while_loop
            if n % 2 == 0:            # a tf.cond inside its body
                n = n // 2
            else:
                n = 3 * n + 1
            steps += 1
        return steps

`tf.function` converts the Python function before tracing it (`conversion.convert`): the source is
rewritten (`transformer`) so each `if`/`while`/`for` calls an operator (`operators`) that decides,
while tracing, between plain Python (a Python condition: the loop unrolls) and a graph op (a tensor
condition). `tf.autograph.to_code(f)` shows the rewritten source.
"""
from course.graph.autograph.conversion import ConversionError, convert, do_not_convert, is_convertible, to_code
from course.graph.autograph.operators import BOOL_MESSAGE, OperatorNotAllowedInGraphError

__all__ = ["convert", "to_code", "to_graph", "do_not_convert", "ConversionError", "is_convertible",
           "OperatorNotAllowedInGraphError", "BOOL_MESSAGE"]


def to_graph(entity, recursive=True, experimental_optional_features=None):
    """`tf.autograph.to_graph(fn)`: the converted function (callable eagerly or inside tf.function)."""
    return convert(entity)
