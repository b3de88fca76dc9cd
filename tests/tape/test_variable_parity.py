"""Differential tests: tf.Variable's conversions and tape.gradient's output_gradients, against real TF.

Each case runs the same code on TensorFlow and on course.tf; the outcome (value, dtype and shape, or
the error's class) must agree.
"""
import os

import numpy as np
import pytest

import course.tf as ctf
from outcome_parity import assert_same_outcome

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
TF = pytest.importorskip("tensorflow")
pytestmark = pytest.mark.parity


def _assign(m, var, value, method="assign"):
    v = m.Variable(var)
    getattr(v, method)(value)
    return v


def _weighted(m, weights):
    x = m.Variable([1.0, 2.0])
    with m.GradientTape() as tape:
        y = x * x
    return tape.gradient(y, x, output_gradients=weights)


CASES = {
    # tf.Variable converts as tf.constant does: numpy float64 stays float64
    "variable_numpy_float64": lambda m: m.Variable(np.ones(2)),
    "variable_numpy_float64_scalar": lambda m: m.Variable(np.float64(2.5)),
    "variable_numpy_float64_as_float32": lambda m: m.Variable(np.ones(2), dtype=m.float32),
    "variable_python_float": lambda m: m.Variable([1.5, 2.0]),
    "variable_int_as_float": lambda m: m.Variable(1, dtype=m.float32),
    "float64_variable_gradient": lambda m: _float64_gradient(m),
    # assign converts to the variable's dtype as TF does
    "assign_int_tensor_to_float": lambda m: _assign(m, 1.0, m.constant(2)),
    "assign_f64_tensor_to_f32": lambda m: _assign(m, 1.0, m.constant(np.float64(2.0))),
    "assign_numpy_f64_to_f32": lambda m: _assign(m, 1.0, np.float64(2.5)),
    "assign_python_int_to_float": lambda m: _assign(m, 1.0, 3),
    "assign_python_float_to_int": lambda m: _assign(m, 1, 2.5),
    "assign_add_python_float_to_int": lambda m: _assign(m, 1, 2.5, "assign_add"),
    "assign_sub_int_tensor_to_float": lambda m: _assign(m, 1.0, m.constant(1), "assign_sub"),
    "assign_add_numpy_to_int": lambda m: _assign(m, 1, np.array(2.7), "assign_add"),
    # sliced assign: v[key].assign(value) writes into the variable
    "slice_assign_row_tail": lambda m: _slice_assign(m, (0, slice(1, None)), [7.0, 8.0]),
    "slice_assign_broadcast": lambda m: _slice_assign(m, 1, 0.0),
    "slice_assign_negative_step": lambda m: _slice_assign(m, (slice(None), slice(None, None, -1)),
                                                          [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]),
    "slice_assign_column": lambda m: _slice_assign(m, (Ellipsis, 2), [9.0, 10.0]),
    "slice_assign_shape_mismatch": lambda m: _slice_assign(m, 1, [1.0, 2.0]),
    "slice_assign_int_tensor": lambda m: _slice_assign(m, 1, m.constant([1, 2, 3])),
    "slice_assign_returns_variable": lambda m: m.Variable([1.0, 2.0])[0].assign(5.0),
    # scatter_nd_update / add / sub write into the variable and return it
    "scatter_nd_update": lambda m: _scatter(m, "scatter_nd_update", [[0], [2]], [7.0, 8.0]),
    "scatter_nd_add_repeated": lambda m: _scatter(m, "scatter_nd_add", [[0], [0]], [1.0, 1.0]),
    "scatter_nd_sub": lambda m: _scatter(m, "scatter_nd_sub", [[1]], [0.5]),
    "scatter_nd_update_rows": lambda m: _scatter(m, "scatter_nd_update", [[1]], [[9, 9]], [[1, 2], [3, 4]]),
    "scatter_nd_update_returns": lambda m: m.Variable([1.0, 2.0]).scatter_nd_update([[1]], [5.0]),
    # output_gradients: TF flattens it and broadcasts each weight to its target
    "output_gradients_tensor": lambda m: _weighted(m, m.constant([1.0, 0.5])),
    "output_gradients_list": lambda m: _weighted(m, [1.0, 0.5]),
    "output_gradients_scalar": lambda m: _weighted(m, 3.0),
}


def _scatter(m, method, indices, updates, start=(1.0, 2.0, 3.0)):
    v = m.Variable(list(start))
    getattr(v, method)(indices, updates)
    return v


def _slice_assign(m, key, value):
    v = m.Variable([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    v[key].assign(value)
    return v


def _float64_gradient(m):
    w = m.Variable(np.array([0.5, -1.0]))
    with m.GradientTape() as tape:
        loss = m.reduce_sum(w * w * w)
    return tape.gradient(loss, w)


@pytest.mark.parametrize("name", sorted(CASES))
def test_variable_case_matches_tensorflow(name):
    assert_same_outcome(name, CASES[name], TF, ctf, rtol=1e-6)      # exact small products
