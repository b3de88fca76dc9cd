"""tf.train: optimizers (on course.optim's TF1-form rules) against TF1's update formulas and against
TensorFlow itself; global step; Saver round trips."""
import os

import numpy as np
import pytest

import course.tf.compat.v1 as tf

X = np.random.RandomState(0).randn(16, 3).astype(np.float32)
Y = (X @ np.array([[1.0], [-2.0], [0.5]], np.float32) + 0.3).astype(np.float32)
W0 = np.array([[0.1], [0.2], [-0.1]], np.float32)


@pytest.fixture(autouse=True)
def fresh_graph():
    tf.reset_default_graph()
    yield
    tf.reset_default_graph()


def regression(module, make_opt, steps=25, global_step=False):
    """Train a linear model with `make_opt()` and return the final (w, b) and the step counter."""
    g = module.Graph()
    with g.as_default():
        x = module.placeholder(module.float32, (None, 3))
        y = module.placeholder(module.float32, (None, 1))
        w = module.Variable(W0)
        b = module.Variable(0.0)
        loss = module.reduce_mean(module.square(module.matmul(x, w) + b - y))
        gs = module.train.get_or_create_global_step() if global_step else None
        train = make_opt(module).minimize(loss, global_step=gs)
        with module.Session(graph=g) as sess:
            sess.run(module.global_variables_initializer())
            for i in range(steps):
                sess.run(train, feed_dict={x: X[i % 4 * 4:(i % 4 + 1) * 4], y: Y[i % 4 * 4:(i % 4 + 1) * 4]})
            return sess.run([w, b] + ([gs] if gs is not None else []))


OPTIMIZERS = {
    "sgd": lambda m: m.train.GradientDescentOptimizer(0.1),
    "momentum": lambda m: m.train.MomentumOptimizer(0.05, 0.9),
    "nesterov": lambda m: m.train.MomentumOptimizer(0.05, 0.9, use_nesterov=True),
    "adam": lambda m: m.train.AdamOptimizer(0.05),
    "rmsprop": lambda m: m.train.RMSPropOptimizer(0.01),
    "rmsprop_centered_momentum": lambda m: m.train.RMSPropOptimizer(0.01, momentum=0.5, centered=True),
    "adagrad": lambda m: m.train.AdagradOptimizer(0.3),
}


def numpy_reference(kind, steps=25):
    """TF1's documented update rules, written out in numpy (float64)."""
    w, b = W0.astype(np.float64), 0.0
    state = {}
    for i in range(steps):
        xb, yb = X[i % 4 * 4:(i % 4 + 1) * 4].astype(np.float64), Y[i % 4 * 4:(i % 4 + 1) * 4].astype(np.float64)
        err = xb @ w + b - yb
        grads = [2 * xb.T @ err / len(xb), 2 * err.mean()]
        params = [w, b]
        t = i + 1
        for j, g in enumerate(grads):
            p = params[j]
            if kind == "adam":
                m = state[j, "m"] = 0.9 * state.get((j, "m"), 0) + 0.1 * g
                v = state[j, "v"] = 0.999 * state.get((j, "v"), 0) + 0.001 * g * g
                lr_t = 0.05 * np.sqrt(1 - 0.999 ** t) / (1 - 0.9 ** t)
                p = p - lr_t * m / (np.sqrt(v) + 1e-8)
            elif kind == "rmsprop":
                ms = state[j, "ms"] = 0.9 * state.get((j, "ms"), 1.0) + 0.1 * g * g      # starts at 1
                p = p - 0.01 * g / np.sqrt(ms + 1e-10)                                  # epsilon inside the root
            elif kind == "adagrad":
                acc = state[j, "acc"] = state.get((j, "acc"), 0.1) + g * g               # starts at 0.1
                p = p - 0.3 * g / np.sqrt(acc)
            elif kind == "momentum":
                a = state[j, "a"] = 0.9 * state.get((j, "a"), 0) + g
                p = p - 0.05 * a
            params[j] = p
        w, b = params
    return w, b


@pytest.mark.parametrize("kind", ["adam", "rmsprop", "adagrad", "momentum"])
def test_updates_follow_tf1_formulas(kind):
    w, b = regression(tf, OPTIMIZERS[kind])
    rw, rb = numpy_reference(kind)
    np.testing.assert_allclose(w, rw, rtol=2e-5, atol=2e-6)
    np.testing.assert_allclose(b, rb, rtol=2e-5, atol=2e-6)


@pytest.mark.parity
@pytest.mark.parametrize("kind", sorted(OPTIMIZERS))
def test_optimizers_match_tensorflow(kind):
    tfr = pytest.importorskip("tensorflow").compat.v1
    theirs = regression(tfr, OPTIMIZERS[kind], global_step=True)
    ours = regression(tf, OPTIMIZERS[kind], global_step=True)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=2e-5, atol=2e-6)


def test_global_step_slots_and_variables():
    tf.reset_default_graph()
    x = tf.placeholder(tf.float32, (None, 3))
    w = tf.Variable(W0)
    loss = tf.reduce_sum(tf.matmul(x, w))
    step = tf.train.create_global_step()
    assert tf.train.get_global_step() is step and tf.train.get_or_create_global_step() is step
    opt = tf.train.AdamOptimizer(0.1)
    train = opt.minimize(loss, global_step=step)
    names = [v.op.name for v in tf.global_variables()]
    assert names[:2] == ["Variable", "global_step"] and "Variable/Adam" in names and "Variable/Adam_1" in names
    assert opt.get_slot(w, "m").op.name == "Variable/Adam" and opt.get_slot_names() == ["m", "v"]
    assert tf.trainable_variables() == [w]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(3):
            sess.run(train, {x: X[:2]})
        assert tf.train.global_step(sess, step) == 3
    with pytest.raises(ValueError, match="No gradients provided"):
        tf.train.GradientDescentOptimizer(0.1).minimize(tf.reduce_sum(x) * 1.0)


def test_learning_rate_schedule_tensor():
    tf.reset_default_graph()
    w = tf.Variable(1.0)
    step = tf.train.get_or_create_global_step()
    lr = tf.train.exponential_decay(0.5, step, decay_steps=2, decay_rate=0.5, staircase=True)
    train = tf.train.GradientDescentOptimizer(lr).minimize(tf.square(w), global_step=step)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        expect = 1.0
        for i in range(5):
            expect -= 0.5 * 0.5 ** (i // 2) * 2 * expect
            sess.run(train)
        np.testing.assert_allclose(sess.run(w), expect, rtol=1e-6)


def build_trainer():
    tf.reset_default_graph()
    x = tf.placeholder(tf.float32, (None, 3))
    y = tf.placeholder(tf.float32, (None, 1))
    w = tf.Variable(W0, name="w")
    b = tf.Variable(0.0, name="b")
    loss = tf.reduce_mean(tf.square(tf.matmul(x, w) + b - y))
    train = tf.train.AdamOptimizer(0.05).minimize(loss)
    return x, y, w, b, train


def test_saver_round_trip_continues_training_identically(tmp_path):
    x, y, w, b, train = build_trainer()
    saver = tf.train.Saver(max_to_keep=2)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for i in range(5):
            sess.run(train, {x: X, y: Y})
        paths = [saver.save(sess, str(tmp_path / "model.ckpt"), global_step=s) for s in (5, 6, 7)]
        assert paths[-1].endswith("model.ckpt-7")
        for _ in range(4):
            sess.run(train, {x: X, y: Y})
        expected = sess.run([w, b])
    assert not os.path.exists(paths[0] + ".index")                     # max_to_keep=2 dropped the oldest
    assert tf.train.latest_checkpoint(str(tmp_path)) == paths[-1]
    assert not [p for p in os.listdir(tmp_path) if ".tmp" in p]          # atomic writes leave no temporaries
    with tf.Session() as sess:                                           # no initializer: restore is enough
        saver.restore(sess, tf.train.latest_checkpoint(str(tmp_path)))
        for _ in range(4):
            sess.run(train, {x: X, y: Y})
        np.testing.assert_array_equal(sess.run(w), expected[0])          # Adam's m, v and step came back too
        assert sess.run(b) == expected[1]


def test_saver_errors(tmp_path):
    x, y, w, b, train = build_trainer()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        path = tf.train.Saver([w]).save(sess, str(tmp_path / "only_w"))
        with pytest.raises(ValueError, match="not a valid checkpoint"):
            tf.train.Saver().restore(sess, str(tmp_path / "missing"))
        with pytest.raises(tf.errors.NotFoundError, match="Key b not found in checkpoint"):
            tf.train.Saver().restore(sess, path)
        with pytest.raises(tf.errors.NotFoundError, match="No such file or directory"):
            tf.train.Saver().save(sess, str(tmp_path / "no" / "such" / "dir" / "m"))
    tf.reset_default_graph()
    tf.Variable(np.zeros((2, 2), np.float32), name="w")
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"lhs shape= \[2,2\] rhs shape= \[3,1\]"):
            tf.train.Saver().restore(sess, path)


def test_saver_restore_with_one_wrong_shape_restores_nothing(tmp_path):
    tf.reset_default_graph()
    a = tf.Variable(np.ones((2, 2), np.float32), name="a")
    b = tf.Variable(np.ones(3, np.float32), name="b")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        path = tf.train.Saver().save(sess, str(tmp_path / "ckpt"))
    tf.reset_default_graph()
    a = tf.Variable(np.zeros((2, 2), np.float32), name="a")      # fits
    b = tf.Variable(np.zeros(4, np.float32), name="b")           # does not
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"lhs shape= \[4\] rhs shape= \[3\].*Nothing was "
                                                                   "restored"):
            tf.train.Saver().restore(sess, path)
        np.testing.assert_array_equal(sess.run(a), np.zeros((2, 2)))   # 'a' kept its value
        np.testing.assert_array_equal(sess.run(b), np.zeros(4))
