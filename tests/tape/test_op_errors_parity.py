"""Differential tests: dtypes and errors of shape, range and tf.nn ops on bad or unusual input.

The same code runs on real TensorFlow and on course.tf; the outcome (value, dtype and shape, or the
error's class) must agree. Errors that TF raises as InvalidArgumentError used to surface here as
torch's RuntimeError or IndexError, or not at all.
"""
import os

import numpy as np
import pytest

import course.tf as ctf
from outcome_parity import assert_same_outcome

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
TF = pytest.importorskip("tensorflow")
pytestmark = pytest.mark.parity

R = np.random.default_rng(5)
A = R.standard_normal((2, 3, 4)).astype(np.float32)
LOGITS = R.standard_normal((3, 5)).astype(np.float32)
IMG = np.arange(16, dtype=np.int32).reshape(1, 4, 4, 1)

CASES = {
    # integer division by zero: TF's InvalidArgumentError
    "floordiv_op_by_zero": lambda m: m.constant([1, 2]) // 0,
    "mod_op_by_zero": lambda m: m.constant([1, 2]) % m.constant([1, 0]),
    "math_floordiv_by_zero": lambda m: m.math.floordiv([7, 8], [2, 0]),
    "math_floormod_by_zero": lambda m: m.math.floormod([7, 8], [0, 3]),
    "float_floordiv_by_zero": lambda m: m.constant([1.0, -1.0]) // 0.0,
    "floordiv_negative": lambda m: m.math.floordiv([-7, 7], [2, -2]),
    # tf.range: dtypes from the arguments, TF's errors
    "range_numpy_int64": lambda m: m.range(np.int64(3)),
    "range_numpy_float64": lambda m: m.range(np.float64(3)),
    "range_int_and_float": lambda m: m.range(1, 2.5, 0.5),
    "range_int64_tensor_limit": lambda m: m.range(0, m.constant(np.int64(4))),
    "range_float_start_int_dtype": lambda m: m.range(0.5, 3, dtype=m.int32),
    "range_dtype_float": lambda m: m.range(5, dtype=m.float32),
    "range_empty_positive_delta": lambda m: m.range(5, 2),
    "range_empty_negative_delta": lambda m: m.range(2, 5, -1),
    "range_equal_bounds": lambda m: m.range(3, 3),
    # shape ops
    "reshape_two_unknown": lambda m: m.reshape(A, [-1, -1]),
    "expand_dims_out_of_range": lambda m: m.expand_dims(A, 4),
    "expand_dims_last": lambda m: m.expand_dims(A, 3),
    "expand_dims_negative_first": lambda m: m.expand_dims(A, -4),
    "tile_wrong_length": lambda m: m.tile(A, [2, 1]),
    # truth value of a tensor (numpy's: several elements are a ValueError)
    "bool_of_two_elements": lambda m: m.constant(bool(m.constant([1.0, 2.0]))),
    "bool_of_one_zero": lambda m: m.constant(bool(m.constant([0.0]))),
    "bool_of_scalar": lambda m: m.constant(bool(m.constant(3))),
    # mirror padding no wider than the axis allows
    "pad_reflect_too_wide": lambda m: m.pad([[1, 2]], [[1, 1], [0, 0]], "REFLECT"),
    "pad_symmetric_axis_wide": lambda m: m.pad([[1, 2]], [[1, 1], [0, 0]], "SYMMETRIC"),
    "pad_symmetric_too_wide": lambda m: m.pad([[1, 2]], [[2, 0], [0, 0]], "SYMMETRIC"),
    "pad_reflect_lowercase": lambda m: m.pad([[1, 2, 3]], [[0, 0], [2, 1]], "reflect"),
    # tf.nn on integers and bad arguments
    "softmax_int": lambda m: m.nn.softmax([1, 2]),
    "log_softmax_int": lambda m: m.nn.log_softmax([1, 2]),
    "softmax_axis_out_of_range": lambda m: m.nn.softmax(LOGITS, axis=2),
    "softmax_axis_0": lambda m: m.nn.softmax(LOGITS, axis=0),
    "l2_loss_int": lambda m: m.nn.l2_loss([1, 2]),
    "avg_pool_int": lambda m: m.nn.avg_pool2d(IMG, 2, 2, "VALID"),
    "max_pool_int": lambda m: m.nn.max_pool2d(IMG, 2, 2, "VALID"),
    "dropout_int": lambda m: m.nn.dropout([1, 2], rate=0.5),
    "sparse_ce_float_labels": lambda m: m.nn.sparse_softmax_cross_entropy_with_logits(
        labels=np.array([0.0, 4.0, 2.0], np.float32), logits=LOGITS),
    "sparse_ce_int32_labels": lambda m: m.nn.sparse_softmax_cross_entropy_with_logits(
        labels=np.array([0, 4, 2], np.int32), logits=LOGITS),
    "sigmoid_ce_int_labels": lambda m: m.nn.sigmoid_cross_entropy_with_logits(
        labels=(LOGITS > 0).astype(np.int32), logits=LOGITS),
    "sigmoid_ce_float_labels": lambda m: m.nn.sigmoid_cross_entropy_with_logits(
        labels=(LOGITS > 0).astype(np.float32), logits=LOGITS),
    "moments_int": lambda m: m.stack(m.nn.moments(m.constant([1, 2, 4]), axes=[0])),
    "moments_int_keepdims": lambda m: m.stack(m.nn.moments(m.constant([[-1, -2], [3, 7]]), axes=[0, 1],
                                                           keepdims=True)),
    "moments_float16": lambda m: m.stack(m.nn.moments(m.constant(np.array([1, 2, 4.5], np.float16)), axes=[0])),
    "bias_add_numpy_float64_bias": lambda m: m.nn.bias_add(LOGITS, np.arange(5, dtype=np.float64)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_op_outcome_matches_tensorflow(name):
    # softmax / cross-entropy in float32: a few roundings of exp and log per element
    assert_same_outcome(name, CASES[name], TF, ctf, rtol=2e-6, atol=1e-6)
