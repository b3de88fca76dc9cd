"""Lesson 02's checks pass the reference answers and reject typical wrong ones with a useful message."""
import numpy as np
import pytest

import course.tf.compat.v1 as tf
from course.exercises import run_checks


def quadratic_graph(a, b, c, x_values):
    x = tf.placeholder(tf.float32, shape=(None,), name="x")
    y = a * x * x + b * x + c
    return y, {x: x_values}


def evaluate(fetches, feed_dict=None):
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        return sess.run(fetches, feed_dict=feed_dict)


def seed003_forward():
    w1 = tf.Variable(tf.random_normal([2, 3], stddev=1, seed=1))
    w2 = tf.Variable(tf.random_normal([3, 1], stddev=1, seed=1))
    x = tf.placeholder(tf.float32, shape=(None, 2), name="x-input")
    y = tf.matmul(tf.matmul(x, w1), w2)
    return x, w1, w2, y


def sgd_step_op(loss, var_list, learning_rate):
    grads = tf.gradients(loss, var_list)
    return tf.group(*[tf.assign_sub(v, learning_rate * g) for v, g in zip(var_list, grads) if g is not None])


def stub(*args):
    raise NotImplementedError()


ANSWERS = {"2.1": quadratic_graph, "2.2": evaluate, "2.3": seed003_forward, "2.4": sgd_step_op}


@pytest.mark.parametrize("exercise_id", sorted(ANSWERS))
def test_reference_answers_pass(exercise_id):
    result = run_checks(exercise_id, ANSWERS[exercise_id])
    assert result.status == "passed", result.message


@pytest.mark.parametrize("exercise_id", sorted(ANSWERS))
def test_stub_is_not_implemented(exercise_id):
    assert run_checks(exercise_id, stub).status == "not implemented"


def _evaluate_no_init(fetches, feed_dict=None):
    with tf.Session() as sess:
        return sess.run(fetches, feed_dict=feed_dict)


_shared = {}


def _evaluate_shared_session(fetches, feed_dict=None):
    g = tf.get_default_graph()
    if g not in _shared:
        _shared[g] = tf.Session()
        _shared[g].run(tf.global_variables_initializer())
    return _shared[g].run(fetches, feed_dict)


def _forward_no_seed():
    w1 = tf.Variable(tf.random_normal([2, 3], stddev=1))
    w2 = tf.Variable(tf.random_normal([3, 1], stddev=1))
    x = tf.placeholder(tf.float32, shape=(None, 2), name="x-input")
    return x, w1, w2, tf.matmul(tf.matmul(x, w1), w2)


def _forward_unnamed():
    w1 = tf.Variable(tf.random_normal([2, 3], stddev=1, seed=1))
    w2 = tf.Variable(tf.random_normal([3, 1], stddev=1, seed=1))
    x = tf.placeholder(tf.float32, shape=(None, 2))
    return x, w1, w2, tf.matmul(tf.matmul(x, w1), w2)


def _sgd_no_none_skip(loss, var_list, lr):
    grads = tf.gradients(loss, var_list)
    return tf.group(*[tf.assign_sub(v, lr * g) for v, g in zip(var_list, grads)])


def _sgd_uphill(loss, var_list, lr):
    grads = tf.gradients(loss, var_list)
    return tf.group(*[tf.assign_add(v, lr * g) for v, g in zip(var_list, grads) if g is not None])


def _sgd_no_assign(loss, var_list, lr):
    grads = tf.gradients(loss, var_list)
    return tf.group(*[v - lr * g for v, g in zip(var_list, grads) if g is not None])


def _sgd_optimizer(loss, var_list, lr):
    return tf.train.GradientDescentOptimizer(lr).minimize(loss, var_list=var_list)


@pytest.mark.parametrize("exercise_id, answer, words", [
    ("2.1", lambda a, b, c, xs: (tf.constant(a * xs * xs + b * xs + c), {}), "one entry"),
    ("2.1", lambda a, b, c, xs: (lambda x: (a * x * x + b * x + c, {x: xs}))(tf.constant(xs)), "placeholder"),
    ("2.1", lambda a, b, c, xs: (lambda x: (a * x * x + b * x + c, {x: xs}))(
        tf.placeholder(tf.float32, shape=(len(xs),))), "(None,)"),
    ("2.1", lambda a, b, c, xs: (lambda x: (a * x + b * x + c, {x: xs}))(
        tf.placeholder(tf.float32, shape=(None,))), "differ"),
    ("2.2", _evaluate_no_init, "global_variables_initializer"),
    ("2.2", _evaluate_shared_session, "new Session"),
    ("2.3", _forward_no_seed, "seed=1"),
    ("2.3", _forward_unnamed, "x-input"),
    ("2.4", _sgd_no_none_skip, "None"),
    ("2.4", _sgd_uphill, "uphill"),
    ("2.4", _sgd_no_assign, "unchanged"),
    ("2.4", _sgd_optimizer, "tf.train optimizer"),
])
def test_wrong_answers_fail_with_a_reason(exercise_id, answer, words):
    result = run_checks(exercise_id, answer)
    assert result.status in ("failed", "error"), result
    assert words in result.message, result.message


def test_tensorflow_printed_these_weights():
    """The hard-coded seed003 weights are what tf.random_normal(seed=1) gives on real TensorFlow."""
    from course.exercises.lesson02 import TF_SEED003_W1, TF_SEED003_W2
    assert TF_SEED003_W1.shape == (2, 3) and TF_SEED003_W2.shape == (3, 1)
    np.testing.assert_array_equal(TF_SEED003_W2[:, 0], TF_SEED003_W1[0])   # same op seed: same first numbers


@pytest.mark.parity
def test_weights_match_real_tensorflow():
    tf_real = pytest.importorskip("tensorflow")
    from course.exercises.lesson02 import TF_SEED003_W1, TF_SEED003_W2
    g = tf_real.Graph()
    with g.as_default():
        w1 = tf_real.compat.v1.random_normal([2, 3], stddev=1, seed=1)
        w2 = tf_real.compat.v1.random_normal([3, 1], stddev=1, seed=1)
        with tf_real.compat.v1.Session(graph=g) as sess:
            a, b = sess.run([w1, w2])
    np.testing.assert_array_equal(a, TF_SEED003_W1)
    np.testing.assert_array_equal(b, TF_SEED003_W2)


# -- Check your understanding: questions 2.5 and 2.6, the planted-bug task 2.7 ----------------------
import time  # noqa: E402

import torch  # noqa: E402
from lesson_outcome import (  # noqa: E402
    assert_bug_fails_and_fix_passes, assert_stub_not_implemented, question_verdicts)

CHOICES_2_5 = {"b": 4.0, "c": 8.0}


@pytest.mark.parametrize("eid, right, wrong, why", [("2.5", "b", "a", "sess.run(c)"), ("2.6", 2.0, 4.0, "s2")])
def test_questions_recorded_then_scored_by_the_instructor_file(eid, right, wrong, why):
    keyless, good, (status, en, zh) = question_verdicts(eid, right, wrong)
    assert (keyless, good, status) == ("recorded", "passed", "failed")
    assert why in en and why in zh and "不是正确答案" in zh


def test_question_keys_are_what_real_tensorflow_does():
    tf_real = pytest.importorskip("tensorflow")
    v1 = tf_real.compat.v1
    g = tf_real.Graph()
    with g.as_default():
        a = v1.placeholder(tf_real.float32, name="a")
        _ = a * 2.0
        c = tf_real.constant(3.0) + 1.0
        with v1.Session(graph=g) as sess:
            printed = float(sess.run(c))                 # no feed: the run is pruned to what c needs
        v = tf_real.Variable(1.0)
        inc = v1.assign_add(v, 1.0)
        init = v1.global_variables_initializer()
        with v1.Session(graph=g) as s1:
            s1.run(init)
            s1.run(inc)
            s1.run(inc)
        with v1.Session(graph=g) as s2:
            s2.run(init)
            s2.run(inc)
            result = float(s2.run(v))
    letter = next(k for k, value in CHOICES_2_5.items() if value == printed)
    assert question_verdicts("2.5", letter, "a")[1] == "passed"
    assert question_verdicts("2.6", result, 0.0)[1] == "passed"


def _softmax_graph(x, y, budget, *, fetch_update):
    start = time.monotonic()
    graph = tf.Graph()
    with graph.as_default():
        xs = tf.placeholder(tf.float32, shape=(None, 784), name="x")
        ys = tf.placeholder(tf.int64, shape=(None,), name="y")
        W = tf.Variable(tf.zeros([784, 10]), name="W")
        b = tf.Variable(tf.zeros([10]), name="b")
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=ys, logits=tf.matmul(xs, W) + b))
        train_step = tf.train.GradientDescentOptimizer(0.5).minimize(loss)
        x_np, y_np = np.asarray(x), np.asarray(y)
        rng = np.random.RandomState(0)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            steps = 0
            while steps < 60 or time.monotonic() - start < 0.5 * budget:
                idx = rng.randint(0, len(x_np), 100)
                fetches = [train_step, loss] if fetch_update else loss
                sess.run(fetches, feed_dict={xs: x_np[idx], ys: y_np[idx]})
                steps += 1
            return sess.run([W, b])


def test_outcome_2_7_fixed_script_reaches_the_target_and_the_planted_bug_does_not():
    fixed = lambda x, y, budget: _softmax_graph(x, y, budget, fetch_update=True)  # noqa: E731
    buggy = lambda x, y, budget: _softmax_graph(x, y, budget, fetch_update=False)  # noqa: E731
    zeros = lambda x, y, budget: (torch.zeros(784, 10), torch.zeros(10))  # noqa: E731
    assert_bug_fails_and_fix_passes("2.7", [buggy, zeros], fixed, practice=True)


def test_outcome_2_7_stub_is_not_implemented():
    assert_stub_not_implemented("2.7")


@pytest.mark.slow
def test_solution_grades_full_and_lesson_zero_with_the_instructor_file():
    pytest.importorskip("ipykernel")
    from lesson_outcome import assert_full_marks_and_zero
    assert_full_marks_and_zero("02_graphs_and_sessions.ipynb")
