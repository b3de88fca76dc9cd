"""`tf.math`: names only (course.tape.math_ops and friends)."""
from course.tape.array_ops import unique
from course.tape.math_ops import (abs_ as abs, acos, add, add_n, argmax, argmin, asin, atan, atan2, ceil,
                                  confusion_matrix, cos, cosh, count_nonzero, cumprod, cumsum, divide, divide_no_nan,
                                  equal, erf, exp, expm1, floor, floordiv, floormod, greater, greater_equal, in_top_k,
                                  is_finite, is_inf, is_nan, l2_normalize, less, less_equal, lgamma, log, log1p,
                                  log_sigmoid,
                                  logical_and, logical_not, logical_or, logical_xor, maximum, minimum, multiply,
                                  negative, not_equal, pow_ as pow, reciprocal, reduce_all, reduce_any,
                                  reduce_euclidean_norm, reduce_logsumexp, reduce_max, reduce_mean, reduce_min,
                                  reduce_prod, reduce_std, reduce_sum, reduce_variance, round_ as round, rsqrt,
                                  scalar_mul, sigmoid, sign, sin, sinh, softplus, sqrt, square, squared_difference,
                                  subtract, tan, tanh, top_k, truediv, xdivy)
from course.tape.nn import log_softmax, softmax, softsign
from course.graph import dispatch as _dispatch
from course.tf._unsupported import module_getattr

mod = floormod
neg = negative

_dispatch.wrap_namespace(globals(), "math.")

__getattr__, __dir__ = module_getattr(__name__, globals(), hints={
    "bincount": "count with tf.reduce_sum(tf.one_hot(x, depth), axis=0).",
    "segment_sum": "use tf.math.unsorted_segment_sum's equivalent tf.scatter_nd, or a one_hot matmul.",
})
