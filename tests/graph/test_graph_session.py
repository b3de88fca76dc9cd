"""Session.run: fetch structures, feeds and their checks, TF's errors naming the node, the plan
cache, placement, and the two executors (compiled plan and interpreter) agreeing."""
import collections

import numpy as np
import pytest
import torch

import course.tf.compat.v1 as tf


@pytest.fixture(autouse=True)
def fresh_graph():
    tf.reset_default_graph()
    yield


def small_net():
    x = tf.placeholder(tf.float32, shape=(None, 2), name="x-input")
    w = tf.Variable([[1.0], [2.0]], name="w")
    b = tf.Variable(0.5, name="b")
    y = tf.matmul(x, w) + b
    return x, w, b, y


def test_fetch_structures_come_back_with_numpy_values():
    x, w, b, y = small_net()
    Pair = collections.namedtuple("Pair", "w b")
    with tf.Session() as sess:
        assert sess.run(tf.global_variables_initializer()) is None
        out = sess.run({"y": y, "both": [w, (b, Pair(w, b))], "name": "x-input:0"}, feed_dict={x: [[1.0, 1.0]]})
        assert isinstance(out, dict) and list(out) == ["y", "both", "name"]
        np.testing.assert_array_equal(out["y"], [[3.5]])
        assert isinstance(out["both"], list) and isinstance(out["both"][1], tuple)
        assert isinstance(out["both"][1][1], Pair) and out["both"][1][1].b == np.float32(0.5)
        assert isinstance(sess.run(b), np.float32)                     # a 0-d value is a numpy scalar, as in TF
        np.testing.assert_array_equal(out["name"], [[1.0, 1.0]])      # a fed tensor fetches its fed value
        assert sess.run(w).dtype == np.float32


def test_fetched_values_are_copies_not_views_of_variables():
    _, w, _, _ = small_net()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        before = sess.run(w)
        sess.run(w.assign_add([[1.0], [1.0]]))
        np.testing.assert_array_equal(before, [[1.0], [2.0]])
        np.testing.assert_array_equal(sess.run(w), [[2.0], [3.0]])


def test_unfed_placeholder_names_it():
    x, _, _, y = small_net()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        with pytest.raises(tf.errors.InvalidArgumentError) as e:
            sess.run(y)
    assert str(e.value).startswith("You must feed a value for placeholder tensor 'x-input' with dtype float and "
                                   "shape [?,2]")
    assert e.value.op is x.op


def test_feed_of_the_wrong_shape_is_refused():
    x, _, _, y = small_net()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        with pytest.raises(ValueError) as e:
            sess.run(y, feed_dict={x: np.zeros((8, 3))})
        assert str(e.value) == "Cannot feed value of shape (8, 3) for Tensor 'x-input:0', which has shape '(?, 2)'"
        with pytest.raises(ValueError, match="Cannot feed value of shape \\(2,\\)"):
            sess.run(y, feed_dict={x: [1.0, 2.0]})
        with pytest.raises(ValueError, match="Cannot feed value of type str for Tensor 'x-input:0' of dtype float"):
            sess.run(y, feed_dict={x: "abc"})
        n = tf.placeholder(tf.int32, (None,))
        with pytest.raises(TypeError, match="fractional"):
            sess.run(n, feed_dict={n: np.array([1.5, 2.0])})
        assert sess.run(n, feed_dict={n: np.array([1.0, 2.0])}).tolist() == [1, 2]
        with pytest.raises(TypeError, match="Cannot interpret feed_dict key as Tensor"):
            sess.run(y, feed_dict={"nope:0": [[1.0, 2.0]]})


def test_uninitialized_variable_is_named():
    x = tf.placeholder(tf.float32, (None, 2))
    w0 = tf.Variable(tf.zeros([2, 1]))
    w1 = tf.Variable(tf.zeros([2, 1]))
    y = tf.matmul(x, w0) + tf.matmul(x, w1)
    with tf.Session() as sess:
        sess.run(w0.initializer)
        with pytest.raises(tf.errors.FailedPreconditionError, match="Attempting to use uninitialized value Variable_1"):
            sess.run(y, feed_dict={x: [[1.0, 2.0]]})


def test_other_graph_closed_session_and_bad_fetches():
    x, _, _, y = small_net()
    other = tf.Graph()
    with other.as_default():
        z = tf.constant(1.0)
        p = tf.placeholder(tf.float32)
    sess = tf.Session()
    with pytest.raises(ValueError, match="is not an element of this graph"):
        sess.run(z)
    with pytest.raises(TypeError, match="Cannot interpret feed_dict key as Tensor.*not an element of this graph"):
        sess.run(x, feed_dict={p: 1.0})
    with pytest.raises(TypeError, match="Fetch argument None has invalid type"):
        sess.run(None)
    with pytest.raises(ValueError, match="The operation, 'nope', does not exist in the graph"):
        sess.run("nope:0")
    sess.close()
    with pytest.raises(RuntimeError, match="Attempted to use a closed Session."):
        sess.run(y, feed_dict={x: [[1.0, 2.0]]})


def test_plan_cache_hits_on_the_second_run():
    x, _, _, y = small_net()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(y, feed_dict={x: [[1.0, 2.0]]})
        info = sess.plan_cache_info()
        sess.run(y, feed_dict={x: [[3.0, 4.0]]})
        after = sess.plan_cache_info()
        assert after["hits"] == info["hits"] + 1 and after["misses"] == info["misses"]
        sess.run([y], feed_dict={x: [[3.0, 4.0]]})                    # another signature: a new plan
        assert sess.plan_cache_info()["misses"] == info["misses"] + 1
        sess.run([y], feed_dict={x: [[3.0, 4.0]]})
        assert sess.plan_cache_info()["hits"] == info["hits"] + 2


def test_plan_is_pruned_to_what_the_fetch_needs():
    x, w, b, y = small_net()
    unused = tf.placeholder(tf.float32, name="unused")
    z = y * unused
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        plan = sess.plan_for(y, {x: [[1.0, 2.0]]})
        names = {n.op.name for n in plan.nodes}
        assert "unused" not in names and z.op.name not in names
        assert "def step(r0):" in plan.source and "MatMul (MatMul)" in plan.source


def build_mixed():
    """A graph touching most op families, with gradients, for the executor agreement test."""
    tf.set_random_seed(3)
    x = tf.placeholder(tf.float32, (None, 6, 6, 2))
    labels = tf.placeholder(tf.float32, (None, 3))
    k = tf.Variable(tf.truncated_normal([3, 3, 2, 4], stddev=0.3))
    h = tf.nn.relu(tf.nn.conv2d(x, k, strides=[1, 1, 1, 1], padding="SAME") + 0.1)
    h = tf.nn.max_pool(h, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding="SAME")
    h = tf.nn.avg_pool(tf.nn.tanh(h), ksize=[1, 2, 2, 1], strides=[1, 1, 1, 1], padding="VALID")
    flat = tf.reshape(h, [-1, 2 * 2 * 4])
    w = tf.Variable(tf.random_uniform([16, 3], -0.5, 0.5))
    logits = tf.matmul(flat, w)
    loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels=labels, logits=logits)) + \
        0.01 * tf.nn.l2_loss(w) + tf.reduce_sum(tf.nn.sigmoid(logits) * tf.exp(-tf.square(logits)))
    grads = tf.gradients(loss, [k, w, x])
    return x, labels, loss, grads


def test_interpreter_and_compiled_plan_agree():
    x, labels, loss, grads = build_mixed()
    rng = np.random.RandomState(0)
    feed_vals = (rng.randn(4, 6, 6, 2).astype(np.float32), np.eye(3)[[0, 1, 2, 1]])
    results = []
    for executor in ("compiled", "interpreter"):
        with tf.Session(executor=executor) as sess:
            sess.run(tf.global_variables_initializer())
            assert sess.plan_for([loss, grads], dict(zip((x, labels), feed_vals))).executor == executor
            results.append(sess.run([loss, grads], feed_dict=dict(zip((x, labels), feed_vals))))
    (l1, g1), (l2, g2) = results
    np.testing.assert_allclose(l1, l2, rtol=1e-6)
    for a, b in zip(g1, g2):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("executor", ["compiled", "interpreter"])
def test_run_time_errors_name_the_failing_node(executor):
    a = tf.placeholder(tf.float32, (None, None), name="a")
    w = tf.constant(np.ones((3, 1), np.float32), name="w")
    y = tf.matmul(a, w, name="product")
    with tf.Session(executor=executor) as sess:
        with pytest.raises(tf.errors.InvalidArgumentError) as e:
            sess.run(y, feed_dict={a: np.ones((2, 4))})
    assert "product" in str(e.value) and e.value.op is y.op


def test_default_session_eval_run_and_interactive():
    x, w, b, y = small_net()
    with pytest.raises(ValueError, match="No default session is registered"):
        y.eval(feed_dict={x: [[1.0, 1.0]]})
    sess = tf.Session()
    with sess.as_default():
        tf.global_variables_initializer().run()
        np.testing.assert_array_equal(y.eval(feed_dict={x: [[1.0, 1.0]]}), [[3.5]])
    sess.close()
    isess = tf.InteractiveSession()
    tf.global_variables_initializer().run()
    assert w.eval().shape == (2, 1)
    isess.close()
    assert tf.get_default_session() is None


def test_sessions_have_separate_variables():
    _, w, _, _ = small_net()
    s1, s2 = tf.Session(), tf.Session()
    s1.run(tf.global_variables_initializer())
    s2.run(tf.global_variables_initializer())
    s1.run(w.assign([[5.0], [5.0]]))
    np.testing.assert_array_equal(s2.run(w), [[1.0], [2.0]])
    s1.close()
    s2.close()


def test_soft_placement_runs_gpu_pinned_ops_without_a_gpu():
    g = tf.Graph()
    with g.as_default():
        with g.device("/gpu:0"):
            a = tf.constant([1.0, 2.0], name="a")
            b = tf.constant([3.0, 4.0], name="b")
            result = a + b
        with tf.Session(config=tf.ConfigProto(allow_soft_placement=True)) as sess:
            np.testing.assert_array_equal(sess.run(result), [4.0, 6.0])
        if not torch.cuda.is_available():
            with tf.Session() as sess:
                with pytest.raises(tf.errors.InvalidArgumentError, match="Could not satisfy explicit device "
                                                                        "specification '/gpu:0'"):
                    sess.run(result)


def test_log_device_placement_prints_each_node(capsys):
    a = tf.constant(1.0, name="a")
    with tf.Session(config=tf.ConfigProto(log_device_placement=True)) as sess:
        sess.run(a + 1)
    assert "a: (Const): /job:localhost/replica:0/task:0/device:" in capsys.readouterr().out


def test_make_callable_feeding_intermediates_and_assign_ops():
    x, w, b, y = small_net()
    doubled = y * 2
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        f = sess.make_callable(doubled, [x])
        np.testing.assert_array_equal(f([[1.0, 1.0]]), [[7.0]])
        np.testing.assert_array_equal(sess.run(doubled, feed_dict={y: [[10.0]]}), [[20.0]])   # feed any tensor
        sess.run(b.assign_add(1.0))
        sess.run(b.assign_sub(0.25))
        assert sess.run(b) == np.float32(1.25)
        np.testing.assert_array_equal(sess.run(w.assign([[0.0], [1.0]])), [[0.0], [1.0]])
        with pytest.raises(ValueError, match="incompatible"):
            w.assign([1.0, 2.0, 3.0])


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_gpu_placement_agrees_with_the_cpu():
    x, labels, loss, grads = build_mixed()
    rng = np.random.RandomState(0)
    feed = dict(zip((x, labels), (rng.randn(4, 6, 6, 2).astype(np.float32), np.eye(3)[[0, 1, 2, 1]])))
    out = {}
    for device in ("cpu", "cuda"):
        with tf.Session(device=device) as sess:
            sess.run(tf.global_variables_initializer())
            out[device] = sess.run([loss, grads], feed_dict=feed)
            assert sess._rt.slot(tf.global_variables()[0].op).value.device.type == device
    np.testing.assert_allclose(out["cuda"][0], out["cpu"][0], rtol=1e-4)
    for a, b in zip(out["cuda"][1], out["cpu"][1]):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-5)
    with tf.Graph().as_default() as g:
        with g.device("/gpu:0"):
            r = tf.constant([1.0, 2.0]) + tf.constant([3.0, 4.0])
        with tf.Session(graph=g, device="cpu") as sess:
            np.testing.assert_array_equal(sess.run(r), [4.0, 6.0])      # pinned to the GPU, fetched to numpy


def test_placeholder_with_default_and_feeding_a_variable():
    d = tf.placeholder_with_default(tf.constant([1.0, 2.0]), shape=[None], name="d")
    v = tf.Variable([5.0, 5.0])
    total = tf.reduce_sum(d * v)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert sess.run(total) == 15.0
        assert sess.run(total, feed_dict={d: [1.0, 1.0]}) == 10.0
        assert sess.run(total, feed_dict={v: [0.0, 1.0]}) == 2.0                 # a fed variable reads the feed
        with pytest.raises(ValueError, match="which has shape '\\(\\?,\\)'"):
            sess.run(total, feed_dict={d: [[1.0]]})
