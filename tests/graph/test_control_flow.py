"""tf.cond, tf.while_loop, tf.case, tf.switch_case and tf.TensorArray: differential tests against TF 2.21.

compat.v1 graphs run on both of our executors (the compiled plan and the interpreter) and on real
TensorFlow's Session; TF2 traced functions run on tf.function. Values are float32 computed in the
same order in both engines, so they agree to float32 rounding (rtol 1e-6); gradients through a loop
add a few roundings per iteration (rtol 1e-5).
"""
import numpy as np
import pytest

from course import tf as ctf
import course.tf.compat.v1 as cv1

tf_real = pytest.importorskip("tensorflow")
pytestmark = pytest.mark.parity
EXECUTORS = ("compiled", "interpreter")


def _v1_both(build, feeds, executor):
    """Build the same TF1 graph in TensorFlow and here; run the fetches with `feeds` (name -> value)."""
    out = []
    for v1 in (tf_real.compat.v1, cv1):
        g = v1.Graph()
        with g.as_default():
            fetches, placeholders = build(v1)
            kwargs = {"executor": executor} if v1 is cv1 else {}
            with v1.Session(graph=g, **kwargs) as sess:
                sess.run(v1.global_variables_initializer())
                out.append([sess.run(fetches, {placeholders[k]: v for k, v in f.items()}) for f in feeds])
    return out


def _close(a, b, rtol=1e-6):
    if isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _close(x, y, rtol)
    else:
        np.testing.assert_allclose(np.asarray(b), np.asarray(a), rtol=rtol, atol=1e-6)


@pytest.mark.parametrize("executor", EXECUTORS)
def test_v1_cond_and_its_gradients(executor):
    def build(tf):
        x = tf.placeholder(tf.float32, [3], name="x")
        w = tf.Variable([1.0, -2.0, 0.5])
        y = tf.cond(tf.reduce_sum(x) > 0, lambda: tf.reduce_sum(x * w), lambda: tf.reduce_sum(tf.square(x)) - 1.0)
        return [y] + tf.gradients(y, [x, w]), {"x": x}
    want, got = _v1_both(build, [{"x": [1.0, 2.0, 3.0]}, {"x": [-1.0, -2.0, 0.5]}], executor)
    _close(want, got)


@pytest.mark.parametrize("executor", EXECUTORS)
def test_v1_while_loop_and_its_gradients(executor):
    def build(tf):
        x = tf.placeholder(tf.float32, [2], name="x")
        w = tf.Variable(1.5)
        i, s = tf.while_loop(lambda i, s: i < 4, lambda i, s: (i + 1, tf.tanh(s) * w + x), [0, x])
        return [i, s] + tf.gradients(tf.reduce_sum(s), [x, w]), {"x": x}
    want, got = _v1_both(build, [{"x": [0.3, -0.7]}, {"x": [1.0, 2.0]}], executor)
    _close(want, got, rtol=1e-5)


@pytest.mark.parametrize("executor", EXECUTORS)
def test_v1_cond_inside_while_loop_inside_cond_and_their_gradients(executor):
    def build(tf):
        x = tf.placeholder(tf.float32, [2], name="x")
        w = tf.Variable([0.8, -0.6])

        def body(i, s):
            s = tf.cond(tf.reduce_sum(s) > 0.0, lambda: tf.tanh(s * w) + x, lambda: s * s * w - x)
            return i + 1, s

        def looped():
            return tf.while_loop(lambda i, s: i < 5, body, [0, x])[1]
        y = tf.cond(tf.reduce_max(x) > -5.0, looped, lambda: x * w)
        loss = tf.reduce_sum(y * y)
        return [y, loss] + tf.gradients(loss, [x, w]), {"x": x}
    want, got = _v1_both(build, [{"x": [0.3, -0.7]}, {"x": [-1.0, 0.2]}, {"x": [-9.0, -8.0]}], executor)
    _close(want, got, rtol=1e-5)


@pytest.mark.parametrize("executor", EXECUTORS)
def test_v1_while_loop_single_variable_comes_back_bare_and_maximum_iterations_stops_it(executor):
    def build(tf):
        n = tf.placeholder(tf.int32, [], name="n")
        bare = tf.while_loop(lambda k: k < n, lambda k: k + 3, [0])
        capped = tf.while_loop(lambda k: k < n, lambda k: k + 1, [0], maximum_iterations=5)
        return [bare, capped], {"n": n}
    want, got = _v1_both(build, [{"n": 10}, {"n": 3}], executor)
    assert [[int(v) for v in r] for r in got] == [[int(v) for v in r] for r in want] == [[12, 5], [3, 3]]


@pytest.mark.parametrize("executor", EXECUTORS)
def test_v1_shape_invariants_let_a_loop_variable_grow(executor):
    def build(tf):
        x = tf.placeholder(tf.float32, [None], name="x")
        _, out = tf.while_loop(lambda i, v: i < 3, lambda i, v: (i + 1, tf.concat([v, v * 2.0], 0)),
                               [0, x], shape_invariants=[tf.TensorShape([]), tf.TensorShape([None])])
        return [out], {"x": x}
    want, got = _v1_both(build, [{"x": [1.0]}, {"x": [1.0, -1.0]}], executor)
    _close(want, got)


def test_shape_change_without_invariant_is_tf_error():
    for tf in (tf_real, ctf):
        @tf.function
        def grow(x):
            return tf.while_loop(lambda v: tf.size(v) < 8, lambda v: tf.concat([v, v], 0), [x])
        with pytest.raises(ValueError, match="enters the loop with shape .* but has shape .* after one iteration"):
            grow(tf.constant([1.0]))


@pytest.mark.parametrize("executor", EXECUTORS)
def test_v1_case_and_switch_case_with_gradients(executor):
    def build(tf):
        k = tf.placeholder(tf.int32, [], name="k")
        x = tf.constant(2.0)
        sw = tf.switch_case(k, [lambda: x, lambda: x * x * 10.0, lambda: x * 100.0])
        c = tf.case([(tf.equal(k, 0), lambda: x + 1.0), (tf.equal(k, 1), lambda: x * x)], default=lambda: -x)
        return [sw, c] + tf.gradients(sw + c, x), {"k": k}
    want, got = _v1_both(build, [{"k": 0}, {"k": 1}, {"k": 2}, {"k": 7}], executor)
    _close(want, got)


@pytest.mark.parametrize("executor", EXECUTORS)
def test_v1_tensor_array_in_a_while_loop_with_gradients(executor):
    def build(tf):
        x = tf.placeholder(tf.float32, [3], name="x")
        ta = tf.TensorArray(tf.float32, size=4)

        def body(i, ta):
            return i + 1, ta.write(i, x * tf.cast(i + 1, tf.float32))
        _, ta = tf.while_loop(lambda i, ta: i < 4, body, [0, ta])
        y = ta.stack()
        loss = tf.reduce_sum(y * y) + tf.reduce_sum(ta.read(2))
        return [y, loss] + tf.gradients(loss, x), {"x": x}
    want, got = _v1_both(build, [{"x": [1.0, -2.0, 0.5]}], executor)
    _close(want, got)


def test_tf2_cond_while_case_in_a_traced_function_with_tape_gradients():
    results = []
    for tf in (tf_real, ctf):
        w = tf.Variable([0.5, -1.0])

        @tf.function
        def step(x, k):
            with tf.GradientTape() as tape:
                y = tf.cond(tf.reduce_sum(x * w) > 0, lambda: tf.reduce_sum(tf.exp(x * w)),
                            lambda: tf.reduce_sum(x * x * w))
                _, z = tf.while_loop(lambda i, z: i < 3, lambda i, z: (i + 1, z * w + x), [0, x])
                s = tf.switch_case(k, [lambda: y, lambda: tf.reduce_sum(z)])
            return s, tape.gradient(s, w)
        out = [[t.numpy() for t in step(tf.constant(x), tf.constant(k))]
               for x in ([1.0, 2.0], [2.0, -1.0]) for k in (0, 1)]
        results.append((out, step.experimental_get_tracing_count()))
    (want, n_want), (got, n_got) = results
    _close(want, got, rtol=1e-5)
    assert n_want == n_got == 1


def test_eager_cond_and_while_loop_are_python():
    for tf in (tf_real, ctf):
        assert float(tf.cond(tf.constant(True), lambda: tf.constant(1.0), lambda: tf.constant(2.0))) == 1.0
        i, s = tf.while_loop(lambda i, s: i < 4, lambda i, s: (i + 1, s + i), (tf.constant(0), tf.constant(0)))
        assert (int(i), int(s)) == (4, 6)
        ta = tf.TensorArray(tf.float32, size=0, dynamic_size=True)
        ta = ta.write(0, [1.0, 2.0]).write(1, [3.0, 4.0])
        assert ta.stack().numpy().tolist() == [[1.0, 2.0], [3.0, 4.0]] and int(ta.size()) == 2


def test_tensor_array_eager_gradients_match():
    grads = []
    for tf in (tf_real, ctf):
        x = tf.Variable([1.0, 2.0])
        with tf.GradientTape() as tape:
            ta = tf.TensorArray(tf.float32, size=3)
            for i in range(3):
                ta = ta.write(i, x * float(i + 1))
            loss = tf.reduce_sum(ta.stack() ** 2) + tf.reduce_sum(ta.gather([0, 2]))
        grads.append(tape.gradient(loss, x).numpy())
    _close(grads[0], grads[1])


def test_cond_branches_must_agree_on_dtype():
    for tf in (tf_real, ctf):
        @tf.function
        def f(x):
            return tf.cond(x > 0, lambda: tf.constant(1.0), lambda: tf.constant(1))
        with pytest.raises(TypeError, match="must have the same number, type, and overall structure"):
            f(tf.constant(1.0))
