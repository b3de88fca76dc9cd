"""TF1 programs on course.tf.compat.v1 against real TensorFlow's tf.compat.v1 in a graph: each case runs
the same function on both (TF inside `with tf.Graph().as_default():`) and compares the values, the
structure that Session.run returns, or the error type and TF's text (which our message starts with or
contains; a hint of ours may follow it).

Covered: Session.run fetch structures and feed checks, variables initialised from other variables,
variable_scope re-entered through its object, get_variable's argument checks, shapes given as lists
holding tensors, tf.cond / tf.while_loop with Python values and with assignments inside, gradients of
integer tensors, and the errors learners meet most (a dtype mismatch in matmul, one-hot labels given
to the sparse cross-entropy)."""
import collections
import os

import numpy as np
import pytest

import course.tf.compat.v1 as ctf

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
TF = pytest.importorskip("tensorflow")
pytestmark = pytest.mark.parity
tf1 = TF.compat.v1

Pair = collections.namedtuple("Pair", "a b")
Other = collections.namedtuple("Other", "x y")


def both(fn):
    """(TF's result, ours) of `fn(module)`; TF builds in a fresh graph, we in a fresh default graph."""
    with TF.Graph().as_default():
        ref = fn(tf1)
    ctf.reset_default_graph()
    return ref, fn(ctf)


def errors(fn):
    """(TF's exception, ours) raised by `fn(module)`."""
    out = []
    for mod in (tf1, ctf):
        with pytest.raises(Exception) as info:
            if mod is tf1:
                with TF.Graph().as_default():
                    fn(mod)
            else:
                ctf.reset_default_graph()
                fn(mod)
        out.append(info.value)
    return out


def run(tf, fetches, feed=None):
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        return sess.run(fetches, feed)


def net(tf):
    x = tf.placeholder(tf.float32, (None, 2), name="x")
    w = tf.Variable([[1.0], [2.0]], name="w")
    b = tf.Variable(0.5, name="b")
    return x, w, b, tf.matmul(x, w) + b


# -- Session.run ------------------------------------------------------------------------------------------
def test_a_namedtuple_fetch_after_a_tuple_fetch_of_the_same_tensors_comes_back_as_the_namedtuple():
    """The plan cache keyed `(w, b)` and `Pair(w, b)` alike (they compare equal), so the second run
    returned a plain tuple."""
    def fn(tf):
        _, w, b, _ = net(tf)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            outs = [sess.run((w, b)), sess.run(Pair(w, b)), sess.run(Other(w, b)), sess.run((w, b)),
                    sess.run({1: b}), sess.run({True: b})]
        return [type(o).__name__ for o in outs[:4]] + [list(o) for o in outs[4:]]
    ref, got = both(fn)
    assert got == ref == ["tuple", "Pair", "Other", "tuple", [1], [True]]


@pytest.mark.parametrize("fetch", ["set", "ndarray", "set_in_list"])
def test_an_unhashable_fetch_is_tfs_type_error_naming_it(fetch):
    make = {"set": lambda b: {b}, "ndarray": lambda b: np.array([1.0]), "set_in_list": lambda b: [b, {b}]}[fetch]

    def fn(tf):
        _, _, b, _ = net(tf)
        with tf.Session() as sess:
            sess.run(make(b))
    ref, got = errors(fn)
    assert type(got) is type(ref) is TypeError
    kind = "set" if "set" in fetch else "ndarray"
    assert f"has invalid type <class '{'numpy.ndarray' if kind == 'ndarray' else kind}'>, must be a string or " \
           "Tensor" in str(got)
    assert f"(Can not convert a {kind} into a Tensor or Operation.)" in str(ref) and \
           f"(Can not convert a {kind} into a Tensor or Operation.)" in str(got)


@pytest.mark.parametrize("value", ["tensor", "variable"])
def test_feeding_a_graph_tensor_as_a_value_is_tfs_type_error(value):
    def fn(tf):
        x, w, _, y = net(tf)
        fed = tf.ones([1, 2]) if value == "tensor" else w
        target = x if value == "tensor" else tf.placeholder(tf.float32, [2, 1])
        with tf.Session() as sess:
            sess.run(target, {target: fed})
    ref, got = errors(fn)
    assert isinstance(got, TypeError)
    assert str(got).startswith("The value of a feed cannot be a tf.Tensor object. Acceptable feed values include "
                               "Python scalars, strings, lists, numpy ndarrays, or TensorHandles.")
    if value == "tensor":                       # (TF 2.21 fails on a resource Variable before its check)
        assert type(ref) is TypeError and str(ref).startswith(str(got)[:120])


def test_a_feed_key_naming_an_operation_and_a_feed_dict_that_is_not_a_dict():
    def by_op_name(tf):
        x, _, _, _ = net(tf)
        with tf.Session() as sess:
            sess.run(x, {"x": [[1.0, 1.0]]})
    ref, got = errors(by_op_name)
    assert type(got) is type(ref) is TypeError
    assert str(got).startswith(str(ref))        # "... The name 'x' refers to an Operation, not a Tensor. ..."
    assert "refers to an Operation, not a Tensor" in str(ref)

    def pairs(tf):
        x, _, _, _ = net(tf)
        with tf.Session() as sess:
            sess.run(x, [(x, [[1.0, 1.0]])])
    ref, got = errors(pairs)
    assert type(got) is type(ref) is TypeError and str(got) == str(ref)


# -- variables --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("form", ["times", "chain", "initialized_value", "get_variable", "of_variable"])
def test_a_variable_initialised_from_another_initialises_in_the_same_initializer_run(form):
    """An initial value that reads another variable reads its `initialized_value()` (TF1's guard against
    uninitialised dependencies; the TF1 guide's `w2 = tf.Variable(w.initialized_value())`): one
    `global_variables_initializer()` run sets both, and rerunning b's initializer later reads a's current
    value. We raised FailedPreconditionError ('uninitialized value a'), and `initialized_value()` always
    gave the initial value. TF 2.21 runs the initializers of one run in parallel and reading a before its
    Assign fails there now and then, so TF's reference runs them one by one in creation order, which is
    what the one run must equal."""
    def fn(tf):
        a = tf.Variable([1.0, 2.0], name="a", use_resource=False)
        if form == "times":
            b = tf.Variable(a * 3, use_resource=False)
        elif form == "chain":
            b = tf.Variable(tf.Variable(a + 1, use_resource=False) * 2, use_resource=False)
        elif form == "initialized_value":
            b = tf.Variable(a.initialized_value() * 2, use_resource=False)
        elif form == "get_variable":
            b = tf.get_variable("b", initializer=a * 3, use_resource=False)
        else:
            b = tf.Variable(a, use_resource=False)
        with tf.Session() as sess:
            if tf is tf1:
                for v in tf.global_variables():
                    sess.run(v.initializer)
            else:
                sess.run(tf.global_variables_initializer())
            first = sess.run(b)
            sess.run(a.assign([10.0, 20.0]))
            sess.run(b.initializer)
            return [first, sess.run(b)]
    ref, got = both(fn)
    np.testing.assert_array_equal(got, ref)


def test_reentering_a_variable_scope_through_its_object_opens_a_new_name_scope():
    def fn(tf):
        with tf.variable_scope("vs") as scope:
            a = tf.get_variable("a", [1])
        with tf.variable_scope(scope):
            e = tf.add(a, 1.0, name="e")
        with tf.variable_scope(scope, reuse=True):
            a2 = tf.get_variable("a")
            inner = tf.get_variable_scope().original_name_scope
        with tf.variable_scope("vs"):
            f = tf.add(a, 1.0, name="f")
        return [a.name, e.name, a2 is a, inner, f.name]
    ref, got = both(fn)
    assert got == ref == ["vs/a:0", "vs_1/e:0", True, "vs/", "vs_3/f:0"]


def test_get_variable_argument_errors_are_tfs():
    ref, got = errors(lambda tf: tf.get_variable("w", shape=[2], initializer=tf.constant([1.0, 2.0])))
    assert type(got) is type(ref) is ValueError and str(got) == str(ref) == \
        "If initializer is a constant, do not specify shape."
    ref, got = errors(lambda tf: tf.get_variable("w"))
    assert type(got) is type(ref) is ValueError and str(got) == str(ref)


# -- shapes given as lists holding tensors ------------------------------------------------------------------
SHAPED = {
    "reshape": lambda tf, x: tf.reshape(x, [tf.shape(x)[0], -1]),
    "reshape_stack": lambda tf, x: tf.reshape(x, tf.stack([tf.shape(x)[0], 6])),
    "zeros": lambda tf, x: tf.zeros([tf.shape(x)[0], 2]),
    "ones_of_shape": lambda tf, x: tf.ones(tf.shape(x)),
    "fill": lambda tf, x: tf.fill([tf.shape(x)[0], 2], 1.5),
    "random_normal": lambda tf, x: tf.random_normal([tf.shape(x)[0], 2]),
    "random_uniform": lambda tf, x: tf.random_uniform([tf.shape(x)[0]]),
}


@pytest.mark.parametrize("case", sorted(SHAPED))
def test_a_shape_list_holding_a_tensor_is_packed_and_its_known_parts_are_static(case):
    """TF packs `[tf.shape(x)[0], 2]` into one int32 tensor and reads what it can of it at build time
    (static shape (?, 2)); we raised TypeError from int(Tensor)."""
    def fn(tf):
        x = tf.placeholder(tf.float32, [None, 3, 2])
        y = SHAPED[case](tf, x)
        with tf.Session() as sess:
            value = sess.run(y, {x: np.ones((4, 3, 2), np.float32)})
        return y.shape.as_list(), value.shape, value if "random" not in case else None
    (ref_static, ref_shape, ref_value), (static, shape, value) = both(fn)
    assert static == ref_static and shape == ref_shape
    if ref_value is not None:
        np.testing.assert_array_equal(value, ref_value)


# -- control flow -------------------------------------------------------------------------------------------
def test_while_loop_with_python_loop_variables_builds_a_graph_loop():
    """TF1's while_loop is a graph op even when the loop variables are Python numbers; we ran the loop in
    Python and returned (12, 1.5) instead of tensors."""
    def fn(tf):
        r = tf.while_loop(lambda i, j: i < 10, lambda i, j: (i + 3, j * 2), (0, 1.5))
        single = tf.while_loop(lambda i: i < 10, lambda i: [i + 3], [0])
        kinds = [hasattr(t, "op") for t in r] + [hasattr(single, "op")]
        return kinds, run(tf, [r, single])
    (ref_kinds, ref_vals), (kinds, vals) = both(fn)
    assert kinds == ref_kinds == [True, True, True]
    assert [type(v).__name__ for v in vals[0]] == [type(v).__name__ for v in ref_vals[0]]
    assert vals[0] == ref_vals[0] and vals[1] == ref_vals[1] == 12


def test_cond_refuses_a_python_bool_as_tf1_does():
    ref, got = errors(lambda tf: tf.cond(True, lambda: tf.constant(1), lambda: tf.constant(2)))
    assert type(got) is type(ref) is TypeError and got.args == ref.args == ("pred must not be a Python bool", True)


@pytest.mark.parametrize("executor", ["compiled", "interpreter"])
def test_assignments_inside_cond_branches_and_while_bodies(executor, monkeypatch):
    """A TF1 Variable assigned inside a cond branch or a loop body: we refused to build it ('Tensor Const:0
    must be from the same graph as the op being built (AssignAdd)')."""
    monkeypatch.setenv("COURSE_GRAPH_EXECUTOR", executor)

    def fn(tf):
        v = tf.Variable(0.0)
        u = tf.Variable(0.0)
        p = tf.placeholder(tf.bool, [])

        def bump():
            with tf.control_dependencies([tf.assign_add(v, 1.0)]):
                return tf.identity(v)
        y = tf.cond(p, bump, lambda: tf.identity(v))
        z = tf.cond(p, lambda: tf.assign(u, 5.0), lambda: tf.assign_add(u, 1.0))

        def body(i):
            with tf.control_dependencies([tf.assign_add(u, 2.0)]):
                return i + 1
        loop = tf.while_loop(lambda i: i < 3, body, [tf.constant(0)])
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            return [sess.run(y, {p: True}), sess.run(y, {p: False}), sess.run(z, {p: False}),
                    sess.run(z, {p: True}), sess.run(loop), sess.run([v, u])]
    ref, got = both(fn)
    assert got == ref == [1.0, 1.0, 1.0, 5.0, 3, [1.0, 11.0]]


# -- gradients and errors -------------------------------------------------------------------------------------
def test_gradients_of_integer_tensors_are_none():
    def fn(tf):
        x = tf.constant([1, 2])
        y = tf.Variable([1.5, 2.0])
        return tf.gradients(x * 2, x) + tf.gradients(tf.reduce_sum(tf.cast(y, tf.int32)), y)
    ref, got = both(fn)
    assert got == ref == [None, None]


def test_matmul_of_float_and_int_tensors_is_tfs_type_error():
    ref, got = errors(lambda tf: tf.matmul(tf.zeros([2, 3]), tf.placeholder(tf.int32, [3, 2])))
    assert type(got) is type(ref) is TypeError and str(got).startswith(str(ref))


def test_one_hot_labels_given_to_the_sparse_cross_entropy_are_tfs_value_error():
    ref, got = errors(lambda tf: tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tf.zeros([5, 4]),
                                                                                logits=tf.zeros([5, 4])))
    assert type(got) is type(ref) is ValueError and str(got).startswith(str(ref))


def test_gradient_clipping_gather_and_squared_difference_exist_in_compat_v1_and_match():
    """tf.clip_by_global_norm, tf.clip_by_norm, tf.global_norm, tf.gather (TF1's argument order) and
    tf.squared_difference raised UnsupportedError in compat.v1 though their graph forms existed. rtol 1e-6:
    float32 norms of 20 and 8 squares whose summation order may differ (a few ulps)."""
    values = np.random.RandomState(3).randn(5, 4).astype(np.float32)

    def fn(tf):
        x = tf.Variable(values)
        y = tf.Variable(values[:2] * 3)
        loss = tf.reduce_sum(tf.square(x)) + tf.reduce_sum(y * x[:2])
        opt = tf.train.GradientDescentOptimizer(0.1)
        grads, variables = zip(*opt.compute_gradients(loss))
        clipped, norm = tf.clip_by_global_norm(grads, 5.0)
        step = opt.apply_gradients(zip(clipped, variables))
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            out = sess.run([norm, tf.global_norm(grads), tf.clip_by_norm(x, 1.0), tf.clip_by_norm(x, 1.0, axes=[1]),
                            tf.gather(x, [0, 2]), tf.gather(x, [1], None, "g", 1), tf.squared_difference(x, 1.0)]
                           + list(clipped))
            sess.run(step)
            return out + sess.run([x, y])
    ref, got = both(fn)
    assert len(got) == len(ref)
    for r, g in zip(ref, got):
        np.testing.assert_allclose(g, r, rtol=1e-6, atol=1e-6)


def test_split_unstack_and_slice_values_shapes_gradients_and_errors():
    """tf.split, tf.unstack and tf.slice raised UnsupportedError in compat.v1 (and NoGraphForm in a
    tf.function). Exact: slices and sums of small integers in float32."""
    values = np.arange(24, dtype=np.float32).reshape(4, 6)

    def fn(tf):
        x = tf.Variable(values)
        parts = (tf.split(x, 3, axis=1) + tf.split(x, [1, -1, 2], 1) + tf.split(x, 2) + tf.unstack(x)
                 + tf.unstack(x, axis=1) + [tf.slice(x, [1, 2], [2, -1]), tf.slice(x, [0, 0], [4, 6])])
        p = tf.placeholder(tf.float32, [None, 6])
        fed = tf.split(p, [2, 4], axis=-1) + tf.unstack(p, axis=1)
        grad = tf.gradients(tf.add_n([tf.reduce_sum(t * (i + 1)) for i, t in enumerate(parts)]), x)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            return sess.run(parts + grad), [t.shape.as_list() for t in parts + fed], sess.run(fed, {p: values})
    (ref_vals, ref_shapes, ref_fed), (vals, shapes, fed) = both(fn)
    assert shapes == ref_shapes
    for r, g in zip(ref_vals + ref_fed, vals + fed):
        np.testing.assert_array_equal(g, r)
    for bad in (lambda tf: tf.split(tf.zeros([4, 6]), 4, axis=1), lambda tf: tf.split(tf.zeros([4, 6]), [2, 3], 1),
                lambda tf: tf.unstack(tf.placeholder(tf.float32, [None, 3]))):
        ref, got = errors(bad)
        assert type(got) is type(ref) is ValueError
        assert str(got).startswith(str(ref).split(" for '")[0].split("\n")[0])    # TF's text, then our hint
