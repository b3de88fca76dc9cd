"""`tf.debugging`: names only (course.tape.debugging; graph forms in course.graph.assert_ops)."""
from course.graph import dispatch as _dispatch
from course.tape.debugging import (Assert, assert_equal, assert_greater, assert_greater_equal, assert_less,
                                   assert_less_equal, assert_negative, assert_non_negative, assert_non_positive,
                                   assert_positive)
from course.tf._unsupported import module_getattr

_dispatch.wrap_namespace(globals(), "debugging.")

__getattr__, __dir__ = module_getattr(__name__, globals(), hints={
    "check_numerics": "check with tf.reduce_all(tf.math.is_finite(x)) and tf.debugging.Assert.",
})
