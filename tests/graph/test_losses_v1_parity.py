"""tf.compat.v1.losses against real TensorFlow: values for every reduction (TF1's default is
SUM_BY_NONZERO_WEIGHTS, not Keras' mean), weights that broadcast or are zero, label smoothing, the LOSSES
collection and get_total_loss, gradients, and a few training steps. `tf.losses` was unsupported
("tf.compat.v1.losses is not supported") before.

Tolerance: float32 values of a few additions and one softmax per row; 1e-6 relative with 1e-6 absolute
covers the last-bit differences of a different summation order, and the trained weights after three
steps (each a product of such values with a learning rate of 0.5) stay within 1e-5."""
import os

import numpy as np
import pytest

import course.tf.compat.v1 as ctf

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
TF = pytest.importorskip("tensorflow")
pytestmark = pytest.mark.parity
tf1 = TF.compat.v1

LOGITS = np.array([[1.0, 2.0, 0.1], [0.5, -1.0, 0.3], [0.0, 0.3, -2.0], [1.2, 0.1, 0.4]], np.float32)
ONEHOT = np.eye(3, dtype=np.float32)[[0, 1, 2, 1]]
WEIGHTS = np.array([1.0, 0.0, 2.0, 0.5], np.float32)
REDUCTIONS = ["SUM_BY_NONZERO_WEIGHTS", "MEAN", "SUM", "SUM_OVER_BATCH_SIZE", "NONE", "default"]


def both(fn):
    with TF.Graph().as_default():
        ref = fn(tf1)
    ctf.reset_default_graph()
    return ref, fn(ctf)


def losses(tf, reduction):
    """Each tf.losses function on the same logits, built with `reduction` (or the default)."""
    x = tf.placeholder(tf.float32, [None, 3])
    y = tf.placeholder(tf.float32, [None, 3])
    w = tf.placeholder(tf.float32, [None])
    v = tf.Variable(np.eye(3, dtype=np.float32) + 0.1)
    logits = tf.matmul(x, v)
    kw = {} if reduction == "default" else {"reduction": getattr(tf.losses.Reduction, reduction)}
    built = [
        tf.losses.softmax_cross_entropy(y, logits, weights=w, **kw),
        tf.losses.softmax_cross_entropy(onehot_labels=y, logits=logits, label_smoothing=0.1, **kw),
        tf.losses.sparse_softmax_cross_entropy(tf.argmax(y, 1), logits, weights=w, **kw),
        tf.losses.sigmoid_cross_entropy(y, logits, weights=tf.expand_dims(w, 1), label_smoothing=0.2, **kw),
        tf.losses.mean_squared_error(y, logits, **kw),
        tf.losses.mean_squared_error(y, logits, weights=[[1.0], [0.0], [2.0], [0.0]], **kw),
        tf.losses.absolute_difference(y, logits, weights=0.5, **kw),
        tf.losses.huber_loss(y, logits, delta=0.5, **kw),
        tf.losses.log_loss(y, tf.sigmoid(logits), **kw),
    ]
    grads = tf.gradients(tf.add_n([tf.reduce_sum(t) for t in built]), v)
    extra = [tf.losses.get_total_loss()] if reduction != "NONE" else []
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        values = sess.run(built + grads + extra, {x: LOGITS, y: ONEHOT, w: WEIGHTS})
    return values, [t.shape.as_list() for t in built], len(tf.losses.get_losses())


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_values_shapes_gradients_and_the_losses_collection_match_tensorflow(reduction):
    (ref, ref_shapes, ref_n), (got, shapes, n) = both(lambda tf: losses(tf, reduction))
    assert shapes == ref_shapes and n == ref_n == 9
    assert len(got) == len(ref)
    for r, g in zip(ref, got):
        np.testing.assert_allclose(g, r, rtol=1e-6, atol=1e-6)


def test_training_on_a_smoothed_softmax_cross_entropy_matches_tensorflow():
    def fn(tf):
        x = tf.placeholder(tf.float32, [None, 3])
        y = tf.placeholder(tf.float32, [None, 3])
        v = tf.Variable(tf.ones([3, 3]) * 0.1)
        loss = tf.losses.softmax_cross_entropy(onehot_labels=y, logits=tf.matmul(x, v), label_smoothing=0.1)
        step = tf.train.GradientDescentOptimizer(0.5).minimize(loss)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            for _ in range(3):
                sess.run(step, {x: LOGITS, y: ONEHOT})
            return sess.run([v, loss], {x: LOGITS, y: ONEHOT})
    ref, got = both(fn)
    for r, g in zip(ref, got):
        np.testing.assert_allclose(g, r, rtol=1e-5, atol=1e-5)


def test_all_zero_weights_give_zero_and_a_bad_reduction_is_tfs_value_error():
    def zero(tf):
        with tf.Session() as sess:
            return sess.run(tf.losses.mean_squared_error([1.0, 2.0], [0.0, 0.0], weights=[0.0, 0.0]))
    ref, got = both(zero)
    assert got == ref == 0.0
    errors = []
    for mod in (tf1, ctf):
        with TF.Graph().as_default(), pytest.raises(ValueError) as info:
            mod.losses.mean_squared_error(mod.zeros([4, 3]), mod.zeros([4, 3]), reduction="avg")
        errors.append(str(info.value))
    assert errors[1] == errors[0]
