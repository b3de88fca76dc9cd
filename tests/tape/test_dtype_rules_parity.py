"""Differential tests: TensorFlow's dtype rules in eager code, against real TensorFlow.

TensorFlow never promotes dtypes: `int_tensor + float_tensor` is an InvalidArgumentError, a Python
float next to an integer tensor a TypeError, and float-only ops (tf.sqrt, tf.exp, ...) refuse
integers. numpy operands are cast to the tensor's dtype. Each case runs the same code on both; the
outcome (value, dtype and shape, or the error's class) must agree.
"""
import os

import numpy as np
import pytest

import course.tf as ctf
from outcome_parity import assert_same_outcome

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
TF = pytest.importorskip("tensorflow")
pytestmark = pytest.mark.parity

R = np.random.default_rng(3)
A = R.standard_normal((2, 3, 4)).astype(np.float32)
I32 = np.arange(24, dtype=np.int32).reshape(2, 3, 4) - 10


def _i(m):
    return m.constant([1, 2])


CASES = {
    # two tensors of different dtypes: never promoted
    "add_int_float": lambda m: _i(m) + m.constant([1.0, 2.0]),
    "add_f32_f64": lambda m: m.constant(1.0) + m.constant(np.float64(1.0)),
    "sub_i32_i64": lambda m: _i(m) - m.constant(np.array([1, 1])),
    "mul_var_int_float": lambda m: m.Variable(1) * m.constant(2.0),
    "truediv_int_float": lambda m: _i(m) / m.constant([2.0, 2.0]),
    "equal_int_float": lambda m: _i(m) == m.constant([1.0, 2.0]),
    "less_int_float": lambda m: _i(m) < m.constant([1.5, 2.5]),
    "tf_add_int_float": lambda m: m.add(_i(m), m.constant([1.0, 1.0])),
    "tf_maximum_int_float": lambda m: m.maximum(_i(m), m.constant([1.5, 1.5])),
    "tf_equal_int_float": lambda m: m.equal(_i(m), m.constant([1.0, 2.0])),
    "add_n_mixed": lambda m: m.add_n([_i(m), m.constant([1.0, 1.0])]),
    "concat_mixed": lambda m: m.concat([_i(m), m.constant([1.0])], 0),
    "stack_mixed": lambda m: m.stack([m.constant(1), m.constant(2.0)]),
    "where_mixed": lambda m: m.where([True, False], _i(m), m.constant([1.0, 2.0])),
    "matmul_int_float": lambda m: m.matmul(m.constant([[1]]), m.constant([[1.0]])),
    # Python values next to a tensor take its dtype; a float never becomes an integer
    "int_times_py_float": lambda m: _i(m) * 0.5,
    "int_times_py_float_whole": lambda m: _i(m) * 2.0,
    "int_plus_py_float": lambda m: _i(m) + 0.5,
    "int_minus_py_float": lambda m: _i(m) - 0.5,
    "py_float_plus_int": lambda m: 0.5 + _i(m),
    "py_float_minus_int": lambda m: 0.5 - _i(m),
    "int_div_py_float": lambda m: _i(m) / 2.0,
    "int_less_py_float": lambda m: _i(m) < 1.5,
    "int_pow_py_float": lambda m: _i(m) ** 0.5,
    "int_plus_float_list": lambda m: _i(m) + [0.5, 1.5],
    "int_times_float_list": lambda m: _i(m) * [0.5, 1.5],
    "int_plus_py_int": lambda m: _i(m) + 3,
    "int_plus_py_bool": lambda m: _i(m) + True,
    "float_plus_py_int": lambda m: m.constant([1.5]) + 1,
    "float16_plus_py_float": lambda m: m.constant(np.array([1.0], np.float16)) + 0.1,
    "tf_multiply_lists": lambda m: m.multiply([1, 2], [0.5, 0.5]),
    "tf_add_pyint_pyfloat": lambda m: m.add(1, 2.5),
    "tf_maximum_int_py_float": lambda m: m.maximum(_i(m), 0.5),
    "clip_int_float_bounds": lambda m: m.clip_by_value(I32, -3.5, 3.5),
    "stack_py_int_float": lambda m: m.stack([1, 2.5]),
    "stack_py_int_float_axis1": lambda m: m.stack([[1], [2.5]], axis=1),
    "logical_and_ints": lambda m: m.logical_and([1, 0], [1, 1]),
    "reduce_any_floats": lambda m: m.reduce_any([1.0, 0.0]),
    "where_int_condition": lambda m: m.where([1, 0], [1, 2], [3, 4]),
    # numpy values are cast to the tensor's dtype (truncating)
    "int_plus_numpy_float": lambda m: _i(m) + np.array([0.5, 1.5]),
    "numpy_float_plus_int": lambda m: np.array([0.5, 1.7]) + _i(m),
    "f32_plus_numpy_f64": lambda m: m.constant([1.0, 2.0]) + np.array([0.25, 0.5]),
    "matmul_list_numpy_f64": lambda m: m.matmul([[1.0, 2.0]], np.ones((2, 1))),
    # conversions
    "constant_floats_as_int": lambda m: m.constant([1.0, 2.0], dtype=m.int32),
    "constant_ints_as_bool": lambda m: m.constant([0, 1], dtype=m.bool),
    "constant_empty_as_int": lambda m: m.constant([], dtype=m.int32),
    "constant_numpy_float_as_int": lambda m: m.constant(np.array([1.7, -1.7]), dtype=m.int32),
    "convert_py_float_as_int": lambda m: m.convert_to_tensor(1.0, dtype=m.int32),
    "variable_float_as_int": lambda m: m.Variable(1.5, dtype=m.int32),
    # == and != with shapes that cannot broadcast, or None
    "equal_op_incompatible_shapes": lambda m: _i(m) == m.constant([1, 2, 3]),
    "not_equal_op_incompatible_shapes": lambda m: _i(m) != m.constant([1, 2, 3]),
    "equal_op_none": lambda m: _i(m) == None,  # noqa: E711 (the operator under test)
    # float-only ops refuse integers
    "sqrt_int": lambda m: m.sqrt(_i(m)),
    "exp_int": lambda m: m.exp(_i(m)),
    "log_int": lambda m: m.math.log(_i(m)),
    "sigmoid_int": lambda m: m.sigmoid(_i(m)),
    "tanh_int": lambda m: m.tanh(_i(m)),
    "is_nan_int": lambda m: m.math.is_nan(_i(m)),
    "clip_by_norm_int": lambda m: m.clip_by_norm(I32, 5),
    "reduce_std_int": lambda m: m.math.reduce_std(_i(m)),
    # integer division into float64; divide_no_nan likewise
    "divide_no_nan_int": lambda m: m.math.divide_no_nan([1, 2], [0, 4]),
    # reductions
    "reduce_sum_bool": lambda m: m.reduce_sum(m.constant([True, False, True])),
    "reduce_mean_bool": lambda m: m.reduce_mean(m.constant([True, False])),
    "reduce_max_bool": lambda m: m.reduce_max(m.constant([True, False])),
    "reduce_sum_duplicate_axis": lambda m: m.reduce_sum(A, axis=[1, 1]),
    "reduce_sum_scalar_axis0": lambda m: m.reduce_sum(m.constant(3.0), axis=0),
    "reduce_max_empty": lambda m: m.reduce_max(m.zeros([0])),
    "reduce_min_empty_int": lambda m: m.reduce_min(m.zeros([0], m.int32)),
    "reduce_max_empty_axis_keep": lambda m: m.reduce_max(m.zeros([2, 0]), axis=1, keepdims=True),
    # clipping
    "clip_min_above_max": lambda m: m.clip_by_value(A, 1.0, -1.0),
    "clip_by_global_norm_f64": lambda m: m.clip_by_global_norm([np.ones(3)], 1.0),
    "clip_by_global_norm_inf": lambda m: m.clip_by_global_norm([m.constant([np.inf, 1.0])], 1.0),
    "clip_by_global_norm_none": lambda m: m.clip_by_global_norm([A, None, A[0]], 1.5),
    "linalg_global_norm": lambda m: m.linalg.global_norm([A, A[0]]),
    # gather and friends
    "gather_negative_index": lambda m: m.gather([1, 2, 3], [-1]),
    "gather_float_index": lambda m: m.gather(A, [1.0]),
    "gather_batch_dims1_axis2": lambda m: m.gather(A, [[0, 2], [1, 1]], axis=2, batch_dims=1),
    "gather_batch_dims1": lambda m: m.gather(A, [[0, 2], [1, 1]], batch_dims=1),
    "gather_batch_dims_negative": lambda m: m.gather(A, [[[0], [1], [2]], [[3], [2], [1]]], batch_dims=-1),
    "gather_batch_dims2_axis2": lambda m: m.gather(A, np.array([[[0, 3], [1, 1], [2, 0]]] * 2), batch_dims=2),
    "gather_nd_batch_dims": lambda m: m.gather_nd(A, [[1, 2], [0, 3]], batch_dims=1),
    "gather_nd_batch_dims_slices": lambda m: m.gather_nd(A, [[[1]], [[0]]], batch_dims=1),
    "gather_nd_out_of_range": lambda m: m.gather_nd(A, [[2]]),
    "one_hot_float_indices": lambda m: m.one_hot([0.0, 1.0], 2),
    "one_hot_on_off_dtypes_differ": lambda m: m.one_hot([0], 2, on_value=1, off_value=0.0),
    "unstack_num_mismatch": lambda m: m.unstack(A, num=3),
    "stack_axis_out_of_range": lambda m: m.stack([[1, 2], [3, 4]], axis=3),
    "transpose_conjugate": lambda m: m.transpose(m.constant([[1 + 2j, 3 - 1j]]), conjugate=True),
    "tensor_scatter_nd_add": lambda m: m.tensor_scatter_nd_add([1, 2, 3], [[0], [0], [2]], [7, 8, 9]),
    "tensor_scatter_nd_sub": lambda m: m.tensor_scatter_nd_sub([1.0, 2.0], [[1]], [0.5]),
    "tensor_scatter_nd_max": lambda m: m.tensor_scatter_nd_max([1, 5, 3], [[0], [1], [0]], [4, 2, 9]),
    "unique_with_counts": lambda m: m.unique_with_counts([3, 1, 3, 2, 3]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_dtype_rule_matches_tensorflow(name):
    # one or two float32 roundings per element (a product, a quotient): 1e-6 relative covers them
    assert_same_outcome(name, CASES[name], TF, ctf, rtol=1e-6, atol=1e-7)
