"""`tf.compat.v1.math`: elementwise maths and reductions for graphs. Names only."""
from course.graph.math_ops import (abs, acos, add, add_n, asin, atan, ceil, cos, cosh, divide, equal, erf, exp, expm1,
                                   floor, floordiv, greater, greater_equal, less, less_equal, log, log1p, logical_and,
                                   logical_not, logical_or, maximum, minimum, multiply, negative, not_equal, pow,
                                   reciprocal, round, rsqrt, sign, sin, sinh, sqrt, square, subtract, tan, truediv)
from course.graph.nn_ops import in_top_k as _in_top_k
from course.graph.nn_ops import sigmoid, softmax, tanh
from course.graph.reduce_ops import (argmax, argmin, count_nonzero, reduce_all, reduce_any, reduce_logsumexp,
                                     reduce_max, reduce_mean, reduce_min, reduce_prod, reduce_sum)
from course.tf import _unsupported


def in_top_k(predictions, targets, k, name=None):
    """TF1's tf.math.in_top_k: predictions first (TF2's takes targets first)."""
    return _in_top_k(predictions, targets, k, name)

__getattr__, __dir__ = _unsupported.module_getattr(__name__, globals())
