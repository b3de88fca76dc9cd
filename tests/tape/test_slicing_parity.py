"""Slicing as TensorFlow slices: negative steps, tf.reverse, tf.strided_slice with masks."""
import os

import numpy as np
import pytest

import course.tf as ctf

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
TF = pytest.importorskip("tensorflow")
pytestmark = pytest.mark.parity

X = np.arange(24, dtype=np.float32).reshape(2, 3, 4)

CASES = {
    "reverse_all": lambda m, x: x[::-1],
    "reverse_last": lambda m, x: x[..., ::-1],
    "step_minus_two": lambda m, x: x[:, ::-2, 3:0:-2],
    "negative_bounds": lambda m, x: x[-1, -1:-4:-1, -2::-1],
    "with_newaxis": lambda m, x: x[m.newaxis, ::-1, 1],
    "empty_backwards": lambda m, x: x[:, 0:2:-1],
    "int_then_reverse": lambda m, x: x[1][::-1, ::-1],
    "tf_reverse": lambda m, x: m.reverse(x, [0, 2]),
    "tf_reverse_neg_axis": lambda m, x: m.reverse(x, [-1]),
    "strided_plain": lambda m, x: m.strided_slice(x, [0, 0, 0], [2, 3, 4], [1, 2, 1]),
    "strided_negative": lambda m, x: m.strided_slice(x, [1, -1, 3], [0, -4, 0], [-1, -1, -2]),
    "strided_masks": lambda m, x: m.strided_slice(x, [0, 1, 0], [0, 3, 2], [1, 1, 1], begin_mask=1, end_mask=1),
    "strided_shrink": lambda m, x: m.strided_slice(x, [1, 0, 0], [2, 3, 4], [1, 1, 1], shrink_axis_mask=1),
    "strided_new_axis": lambda m, x: m.strided_slice(x, [0, 0], [1, 2], [1, 1], new_axis_mask=1),
    "strided_ellipsis": lambda m, x: m.strided_slice(x, [0, 3], [0, 0], [1, -1], ellipsis_mask=1),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_slices_as_tensorflow(case):
    ref = CASES[case](TF, TF.constant(X))
    got = CASES[case](ctf, ctf.constant(X))
    assert str(got) == str(ref)
    np.testing.assert_allclose(got.numpy(), ref.numpy(), atol=1e-5)


def test_gradient_flows_through_a_reversed_slice():
    grads = []
    for m in (TF, ctf):
        v = m.Variable(X)
        with m.GradientTape() as tape:
            y = m.reduce_sum(v[::-1, ::-2] * m.constant(np.arange(12, dtype=np.float32).reshape(2, 2, 3)[..., :1]))
        grads.append(tape.gradient(y, v).numpy())
    np.testing.assert_allclose(grads[1], grads[0], atol=1e-5)


def test_negative_steps_inside_tf_function_trace_into_the_graph():
    results = []
    for m in (TF, ctf):
        v = m.Variable(X)

        @m.function
        def step():
            with m.GradientTape() as tape:
                y = m.reduce_sum(v[::-1, 2::-2] * 3.0)
            return v[:, ::-1, 1], tape.gradient(y, v)
        sliced, grad = step()
        results.append((sliced.numpy(), grad.numpy()))
    np.testing.assert_allclose(results[1][0], results[0][0], atol=1e-5)
    np.testing.assert_allclose(results[1][1], results[0][1], atol=1e-5)
