"""tf.tile, tf.pad, tf.reduce_logsumexp and tf.nn.in_top_k in graphs, against real TensorFlow.

TF1 programs on course.tf.compat.v1 and on TF's tf.compat.v1 (in a fresh tf.Graph): the static shape
with an unknown batch, the values, and the gradients that tf.gradients builds (with a weighting
grad_ys, so every output position counts differently). Then the TF2 names inside a tf.function
against TF's eager results, and the errors for bad arguments. in_top_k is the evaluation op of
TensorFlow's "Mechanics 101" MNIST tutorial: ties at the k-th place count as in, a row holding a
non-finite prediction or a target outside the classes is False.
"""
import os

import numpy as np
import pytest

import course.tf as ctf2
import course.tf.compat.v1 as ctf

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
TF = pytest.importorskip("tensorflow")
pytestmark = pytest.mark.parity
tf1 = TF.compat.v1

R = np.random.default_rng(7)
X = R.standard_normal((3, 4)).astype(np.float32)
W = R.standard_normal((3, 4)).astype(np.float32)


def both(fn):
    """fn(module) -> (fetches, feed builder); run on TF in a fresh graph and on course: (TF's, ours)."""
    out = []
    for mod in (tf1, ctf):
        if mod is tf1:
            with TF.Graph().as_default():
                out.append(_run(mod, fn))
        else:
            ctf.reset_default_graph()
            out.append(_run(mod, fn))
    return out


def _run(tf, fn):
    x = tf.placeholder(tf.float32, (None, 4), name="x")
    y = fn(tf, x)
    weights = tf.placeholder(tf.float32, None, name="w")
    (grad,) = tf.gradients(y, [x], grad_ys=weights)
    with tf.Session() as sess:
        value = sess.run(y, {x: X})
        g = sess.run(grad, {x: X, weights: _weights(value.shape)})
    return y.shape.as_list(), value, g


def _weights(shape):
    return np.arange(1, int(np.prod(shape)) + 1, dtype=np.float32).reshape(shape) / 7


CASES = {
    "tile": lambda tf, x: tf.tile(x, [2, 3]),
    "tile_ones": lambda tf, x: tf.tile(x, [1, 1]),
    "pad_constant": lambda tf, x: tf.pad(x, [[1, 2], [0, 3]], constant_values=1.5),
    "pad_lowercase_mode": lambda tf, x: tf.pad(x, [[0, 1], [2, 0]], mode="constant"),
    "pad_reflect": lambda tf, x: tf.pad(x, [[2, 1], [3, 2]], mode="REFLECT"),
    "pad_symmetric": lambda tf, x: tf.pad(x, [[3, 0], [4, 1]], mode="SYMMETRIC"),
    "logsumexp_all": lambda tf, x: tf.reduce_logsumexp(x * 30.0),
    "logsumexp_axis1": lambda tf, x: tf.reduce_logsumexp(x * 30.0, axis=1),
    "logsumexp_axis0_keepdims": lambda tf, x: tf.reduce_logsumexp(x, axis=0, keepdims=True),
    "logsumexp_reduction_indices": lambda tf, x: tf.reduce_logsumexp(x, reduction_indices=[0, 1], keep_dims=True),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_values_static_shapes_and_gradients_match_tensorflow(name):
    (shape_t, value_t, grad_t), (shape_o, value_o, grad_o) = both(CASES[name])
    assert shape_o == shape_t
    # tile/pad copy values exactly; logsumexp: exp, a sum of at most 12 terms and a log in float32
    np.testing.assert_allclose(value_o, value_t, rtol=1e-6, atol=1e-6)
    # pad/tile gradients add at most a few weights per input; logsumexp's is g·softmax
    np.testing.assert_allclose(grad_o, grad_t, rtol=1e-5, atol=1e-6)


PREDICTIONS = np.array([[0.1, 0.5, 0.5, 0.2],       # a tie at the top: both classes are in the top 1
                        [0.4, 0.3, 0.2, 0.1],
                        [0.1, np.nan, 0.9, 0.3],    # a NaN anywhere in the row: False
                        [1.0, 2.0, np.inf, 0.0],    # an inf too
                        [0.3, 0.3, 0.3, 0.3],       # all tied
                        [0.9, 0.1, 0.0, 0.5]], np.float32)
TARGETS = np.array([2, 3, 2, 1, 0, 3], np.int32)


@pytest.mark.parametrize("k", [0, 1, 2, 4])
def test_in_top_k_matches_tensorflow(k):
    def program(tf):
        p = tf.placeholder(tf.float32, (None, 4))
        t = tf.placeholder(tf.int32, (None,))
        ops = [tf.nn.in_top_k(p, t, k), tf.math.in_top_k(p, t, k)]      # TF1: predictions first in both
        with tf.Session() as sess:
            return ops[0].shape.as_list(), ops[0].dtype.name if tf is tf1 else str(ops[0].dtype), \
                sess.run(ops, {p: PREDICTIONS, t: TARGETS})
    with TF.Graph().as_default():
        shape_t, _, (a_t, b_t) = program(tf1)
    ctf.reset_default_graph()
    shape_o, dtype_o, (a_o, b_o) = program(ctf)
    assert shape_o == shape_t == [None]
    assert dtype_o == "torch.bool"
    np.testing.assert_array_equal(a_o, a_t)
    np.testing.assert_array_equal(b_o, b_t)


def test_in_top_k_with_a_target_outside_the_classes_is_false_as_in_tensorflow():
    targets = np.array([4, -1], np.int32)
    preds = PREDICTIONS[:2]
    with TF.Graph().as_default():
        with tf1.Session() as sess:
            ref = sess.run(tf1.nn.in_top_k(preds, targets, 2))
    ctf.reset_default_graph()
    with ctf.Session() as sess:
        ours = sess.run(ctf.nn.in_top_k(preds, targets, 2))
    np.testing.assert_array_equal(ours, ref)
    np.testing.assert_array_equal(np.asarray(ctf2.math.in_top_k(targets, preds, 2)), ref)   # the eager form


def test_the_tf2_names_trace_into_a_tf_function_and_match_tensorflows_eager_results():
    def program(tf):
        @tf.function
        def f(x, p, t):
            return (tf.tile(x, [1, 2]), tf.pad(x, [[1, 0], [0, 2]], constant_values=-1.0),
                    tf.pad(x, [[1, 1], [2, 2]], mode="REFLECT"), tf.reduce_logsumexp(x, axis=-1),
                    tf.math.reduce_logsumexp(x), tf.math.in_top_k(t, p, 2), tf.nn.in_top_k(t, p, 1))
        args = tf.constant(X), tf.constant(PREDICTIONS), tf.constant(TARGETS)
        if tf is ctf2:                        # traced into graph ops, not run eagerly
            kinds = {op.type for op in f.get_concrete_function(*args).graph.get_operations()}
            assert {"Tile", "Pad", "LogSumExp", "InTopKV2"} <= kinds, kinds
        return [np.asarray(v) for v in f(*args)]
    ours = program(ctf2)
    theirs = program(TF)
    for o, t in zip(ours, theirs):
        assert o.shape == t.shape
        np.testing.assert_allclose(o.astype(np.float64), t.astype(np.float64), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("make, words", [
    (lambda tf, x: tf.tile(x, [2]), "one multiple per axis"),
    (lambda tf, x: tf.pad(x, [[1, 1]]), "one \\[before, after\\] pair per axis"),
    (lambda tf, x: tf.pad(x, [[1, 1], [0, 0]], mode="WRAP"), "CONSTANT, REFLECT or SYMMETRIC"),
    (lambda tf, x: tf.nn.in_top_k(x, tf.constant([0.0, 1.0]), 1), "int32 or int64 class indices"),
    (lambda tf, x: tf.reduce_logsumexp(tf.cast(x, tf.int32)), "needs a float tensor"),
])
def test_bad_arguments_fail_when_built_with_what_to_do(make, words):
    with TF.Graph().as_default():             # TensorFlow refuses each of these when it builds the graph too
        with pytest.raises((ValueError, TypeError)):
            make(tf1, tf1.placeholder(tf1.float32, (None, 4)))
    ctf.reset_default_graph()
    with pytest.raises((ValueError, TypeError), match=words):
        make(ctf, ctf.placeholder(ctf.float32, (None, 4)))
