"""TensorFlow 2, on PyTorch: `import course.tf as tf` (or `from course import tf`).

Names only. The eager engine is course.tape (tensors, ops, GradientTape, tf.function, tf.data);
`tf.keras` is course.tf.keras (the course.keras engine); TF1 graphs and sessions are
`tf.compat.v1` (the course.graph engine). A TensorFlow name that is not here raises
`UnsupportedError` (a NotImplementedError and an AttributeError) naming the nearest one that is.

`install_import_hook()` makes `import tensorflow` itself give this module (`course run PROGRAM.py`
does it for a script).
"""
from course.tape.array_ops import (boolean_mask, broadcast_to, concat, ensure_shape, expand_dims, gather, gather_nd,
                                   get_static_value, is_tensor, meshgrid, newaxis, one_hot, pad, rank, repeat, reshape,
                                   reverse, roll, scatter_nd, sequence_mask, shape, shape_n, size, slice_ as slice,
                                   sort, argsort, split, squeeze, stack, stop_gradient, tensor_scatter_nd_add,
                                   tensor_scatter_nd_max, tensor_scatter_nd_min, tensor_scatter_nd_sub,
                                   tensor_scatter_nd_update, tile, transpose, unique, unique_with_counts, unstack,
                                   where)
from course.tape.control import (case, cond, control_dependencies, init_scope, map_fn, numpy_function,
                                 print_ as print, switch_case, vectorized_map, while_loop)
from course.tape.py_function import py_function
from course.tape.debugging import Assert
from course.tape.creation import (constant, convert_to_tensor, eye, fill, identity, linspace, ones, ones_like,
                                  range_ as range, zeros, zeros_like)
from course.tape.devices import device, executing_eagerly
from course.framework.dtypes import (DType, as_dtype, bfloat16, bool_ as bool, complex64, complex128, double, float16,
                                float32, float64, half, int8, int16, int32, int64, string, uint8)
from course.tape.gradient_tape import GradientTape, UnconnectedGradients, custom_gradient
from course.tape.math_ops import (abs_ as abs, acos, add, add_n, argmax, argmin, asin, atan, atan2, cast, ceil,
                                  clip_by_global_norm, clip_by_norm, clip_by_value, cos, cosh, cumprod, cumsum, divide,
                                  einsum, equal, exp, floor, greater, greater_equal, less, less_equal, log,
                                  logical_and, logical_not, logical_or, logical_xor, matmul, maximum, minimum,
                                  multiply, negative, norm, not_equal, pow_ as pow, reduce_all, reduce_any,
                                  reduce_logsumexp, reduce_max, reduce_mean, reduce_min, reduce_prod, reduce_std,
                                  reduce_sum, reduce_variance, round_ as round, saturate_cast, sigmoid, sign, sin,
                                  sinh, sqrt, square, squared_difference, subtract, tan, tanh, tensordot, truediv)
from course.tape.module import Module, name_scope
from course.framework.shapes import TensorShape
from course.tape.slicing import strided_slice
from course.tape.ragged import RaggedTensor
from course.tape.tensor import Tensor
from course.tape.variables import Variable
from course.tf import config, data, dtypes, errors, linalg, math, nest, nn, random, summary, test, version
from course.tf import image, ragged, sparse, strings
from course.tape.sparse import SparseTensor
from course.tf._unsupported import UnsupportedError, module_getattr
from course.tf.importhook import install as install_import_hook, uninstall as uninstall_import_hook
from course.graph import dispatch as _dispatch
from course.graph import control_flow_ops as _control_flow   # noqa: F401  (graph forms of cond, while_loop, range)
from course.graph.tensor_array import TensorArray
from course.tf import autograph
from course.graph.concrete_function import V2Graph as Graph
from course.graph.function import TensorSpec, function

_dispatch.wrap_namespace(globals())        # each op with a graph form builds graph ops inside tf.function

__version__ = version.VERSION

_V1 = "is TensorFlow 1; run the program with `course run --v1` or import course.tf.compat.v1 as tf."
_HINTS = {
    "Session": f"tf.Session {_V1}",
    "InteractiveSession": f"tf.InteractiveSession {_V1}",
    "placeholder": f"tf.placeholder {_V1} In TF2, pass tensors to a function instead.",
    "global_variables_initializer": f"It {_V1} TF2 variables are initialised when created.",
    "initialize_all_variables": f"It {_V1}",
    "get_variable": f"tf.get_variable {_V1} In TF2 use tf.Variable.",
    "variable_scope": f"tf.variable_scope {_V1}",
    "reset_default_graph": f"Graphs are TensorFlow 1: {_V1}",
    "get_default_graph": f"Graphs are TensorFlow 1: {_V1}",
    "ConfigProto": f"tf.ConfigProto {_V1}",
    "GPUOptions": f"tf.GPUOptions {_V1}",
    "disable_eager_execution": f"It {_V1}",
    "disable_v2_behavior": f"It {_V1}",
    "enable_eager_execution": "Eager execution is always on in course.tf (TF2).",
    "layers": "tf.layers is TensorFlow 1; use tf.keras.layers.",
    "contrib": "tf.contrib was removed in TensorFlow 2 and is not supported.",
    "random_normal": "It is TF1's name; use tf.random.normal (or run with `course run --v1`).",
    "random_uniform": "It is TF1's name; use tf.random.uniform (or run with `course run --v1`).",
    "truncated_normal": "It is TF1's name; use tf.random.truncated_normal.",
    "set_random_seed": "It is TF1's name; use tf.random.set_seed.",
    "to_float": "It is TF1's; use tf.cast(x, tf.float32).",
    "to_int32": "It is TF1's; use tf.cast(x, tf.int32).",
    "log1p": "Use tf.math.log1p.",
    "floordiv": "Use tf.math.floordiv (or x // y).",
    "mod": "Use tf.math.floormod (or x % y).",
    "estimator": "tf.estimator is not supported; use tf.keras.Model.fit.",
    "lite": "TensorFlow Lite is not supported.",
}

__getattr__, __dir__ = module_getattr(__name__, globals(), lazy={
    "keras": "course.tf.keras",
    "compat": "course.tf.compat",
    "examples": "course.tf.examples",
    "debugging": "course.tf.debugging",
    "optimizers": "course.tf.keras.optimizers",
    "losses": "course.tf.keras.losses",
    "metrics": "course.tf.keras.metrics",
    "initializers": "course.tf.keras.initializers",
}, hints=_HINTS)
