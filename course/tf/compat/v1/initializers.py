"""`tf.compat.v1.initializers`: initializers for tf.get_variable. Names only."""
from course.graph.initializers import constant_initializer as constant
from course.graph.initializers import glorot_normal_initializer as glorot_normal
from course.graph.initializers import glorot_uniform_initializer as glorot_uniform
from course.graph.initializers import he_normal, he_uniform
from course.graph.initializers import ones_initializer as ones
from course.graph.initializers import random_normal_initializer as random_normal
from course.graph.initializers import random_uniform_initializer as random_uniform
from course.graph.initializers import truncated_normal_initializer as truncated_normal
from course.graph.initializers import variance_scaling_initializer as variance_scaling
from course.graph.initializers import zeros_initializer as zeros
from course.graph.variables import global_variables_initializer as global_variables
from course.graph.variables import local_variables_initializer as local_variables
from course.graph.variables import variables_initializer as variables
from course.tf import _unsupported

__getattr__, __dir__ = _unsupported.module_getattr(__name__, globals())
