"""`tf.compat.v1.random`: seeded random ops with TensorFlow's values. Names only."""
from course.graph.random_ops import random_normal as normal
from course.graph.random_ops import random_uniform as uniform
from course.graph.random_ops import set_random_seed
from course.graph.random_ops import truncated_normal
from course.tf import _unsupported

__getattr__, __dir__ = _unsupported.module_getattr(__name__, globals())
