"""`tf.compat.v1`: TensorFlow 1's graph-and-session API, on `course.graph`. Names only.

    import course.tf.compat.v1 as tf        # graph mode from the start
    tf.disable_eager_execution()            # exists for TF2-era scripts; changes nothing

Real TensorFlow 2 runs the same program as `import tensorflow.compat.v1 as tf` followed by
`tf.disable_eager_execution()`. dtypes are torch dtypes (`tf.float32 is torch.float32`).
"""
import torch

from course.graph.array_ops import (Print, cast, constant, convert_to_tensor, fill, group, identity, no_op,
                                    ones, ones_like, placeholder, placeholder_with_default, stop_gradient, to_double,
                                    to_float, to_int32, to_int64, zeros, zeros_like)
from course.graph.gradients import AggregationMethod, UnconnectedGradients, gradients
from course.graph.graph import (Graph, GraphKeys, Operation, Tensor, control_dependencies, device,
                                get_default_graph, get_default_session, name_scope, reset_default_graph)
from course.graph.initializers import (constant_initializer, glorot_normal_initializer, glorot_uniform_initializer,
                                       ones_initializer, random_normal_initializer, random_uniform_initializer,
                                       truncated_normal_initializer, variance_scaling_initializer, zeros_initializer)
from course.graph.math_ops import (abs, acos, add, add_n, asin, atan, ceil, clip_by_value, cos, cosh, divide, equal,
                                   erf, exp, expm1, floor, floordiv, greater, greater_equal, less, less_equal, log,
                                   log1p, logical_and, logical_not, logical_or, matmul, maximum, minimum, mod, multiply,
                                   negative, not_equal, pow, realdiv, reciprocal, round, rsqrt, sign, sin, sinh, sqrt,
                                   square, subtract, tan, truediv)
from course.graph.nn_ops import sigmoid, tanh
from course.graph.random_ops import random_normal, random_uniform, set_random_seed, truncated_normal
from course.graph.reduce_ops import (argmax, argmin, count_nonzero, reduce_all, reduce_any, reduce_logsumexp,
                                     reduce_max, reduce_mean, reduce_min, reduce_prod, reduce_sum)
from course.graph.session import ConfigProto, GPUOptions, InteractiveSession, RunMetadata, RunOptions, Session
from course.graph.shape_ops import (concat, expand_dims, one_hot, pad, rank, reshape, shape, size, split, squeeze,
                                    stack, tile, transpose, unstack, where)
from course.graph.shape_ops import slice_ as slice  # noqa: A004 (TF's name)
from course.framework.shapes import TensorShape
from course.graph.variables import (AUTO_REUSE, Variable, VariableScope, all_variables, assign, assign_add,
                                    assign_sub, get_variable, get_variable_scope, global_variables,
                                    global_variables_initializer, initialize_local_variables,
                                    is_variable_initialized, local_variables, local_variables_initializer,
                                    model_variables, trainable_variables, variable_scope, variables_initializer)
from course.graph.dispatch import GRAPH_FORMS as _FORMS
from course.graph.dispatch import global_norm
from course.graph.gather_ops import gather_v1 as gather
from course.graph.control_flow_ops import (case_v1 as case, cond_v1 as cond, switch_case_v1 as switch_case,
                                          while_loop_v1 as while_loop)
from course.graph.range_ops import range_ as range  # noqa: A004 (TF's name)
from course.graph.tensor_array import TensorArray
from course.tf import _unsupported
from course.tf.compat.v1 import errors, nn, train  # noqa: F401  (tf.nn, tf.train, tf.errors)

clip_by_norm, clip_by_global_norm = _FORMS["clip_by_norm"], _FORMS["clip_by_global_norm"]
squared_difference = _FORMS["squared_difference"]

_warned_deprecated = set()


def initialize_all_variables():
    """Deprecated alias of `global_variables_initializer`; logs TensorFlow's deprecation warning once."""
    if "initialize_all_variables" not in _warned_deprecated:
        _warned_deprecated.add("initialize_all_variables")
        import inspect
        import os
        import logging as _py_logging
        caller = inspect.stack()[1]
        _py_logging.getLogger("tensorflow").warning(
            "From %s:%d: initialize_all_variables (from tensorflow.python.ops.variables) is deprecated and will "
            "be removed after 2017-03-02.\nInstructions for updating:\nUse `tf.global_variables_initializer` "
            "instead.", os.path.basename(caller.filename), caller.lineno)
    return global_variables_initializer()


float16, half, bfloat16 = torch.float16, torch.float16, torch.bfloat16
float32, float64, double = torch.float32, torch.float64, torch.float64
int8, int16, int32, int64, uint8 = torch.int8, torch.int16, torch.int32, torch.int64, torch.uint8
bool = torch.bool   # noqa: A001 (TF's name)
newaxis = None


def disable_eager_execution():
    """Exists for TF2-era scripts; course.tf.compat.v1 is in graph mode from the start."""


def disable_v2_behavior():
    """Exists for TF2-era scripts; course.tf.compat.v1 is in graph mode from the start."""


def enable_v2_behavior():
    raise _unsupported.unsupported(__name__, "enable_v2_behavior", hint="For TF2 (eager) code import course.tf "
                                   "(`from course import tf`) instead of course.tf.compat.v1.")


def enable_eager_execution(config=None, device_policy=None, execution_mode=None):
    raise _unsupported.unsupported(__name__, "enable_eager_execution", hint="For eager code import course.tf "
                                   "(`from course import tf`); course.tf.compat.v1 is graph mode.")


def executing_eagerly():
    return False


def as_dtype(type_value):
    from course.framework.dtypes import as_torch_dtype as _as
    return _as(type_value)


def add_to_collection(name, value):
    get_default_graph().add_to_collection(name, value)


def add_to_collections(names, value):
    get_default_graph().add_to_collections(names, value)


def get_collection(key, scope=None):
    return get_default_graph().get_collection(key, scope)


def get_collection_ref(key):
    return get_default_graph().get_collection_ref(key)


__getattr__, __dir__ = _unsupported.module_getattr(__name__, globals(), lazy={
    "initializers": "course.tf.compat.v1.initializers", "random": "course.tf.compat.v1.random",
    "math": "course.tf.compat.v1.math", "app": "course.tf.compat.v1.app", "logging": "course.tf.compat.v1.logging",
    "examples": "course.tf.examples", "summary": "course.tf.compat.v1.summary", "losses": "course.tf.compat.v1.losses",
    "Summary": "course.graph.file_writer.Summary", "Event": "course.graph.file_writer.Event",
}, hints={
    "contrib": "tf.contrib was removed in TF2; use tf.nn / tf.train here, or course.tf.keras for layers.",
    "layers": "tf.layers (TF1's Keras-like layers) is not supported; build layers from tf.get_variable + tf.nn ops, "
              "or use course.tf.keras.",
    "keras": "use course.tf.keras (TF2-style) instead of tf.compat.v1.keras.",
    "Estimator": "Estimators are not supported; use Session.run loops or course.tf.keras.",
    "estimator": "Estimators are not supported; use Session.run loops or course.tf.keras.",
})
