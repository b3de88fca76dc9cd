"""The eager engine against independent references: numpy for values, torch autograd for gradients."""
import numpy as np
import pytest
import torch

import course.tf as tf
from course.tape import EagerTensor
from course.framework.convert import as_plain

RNG = np.random.default_rng(0)


def np_of(t):
    return np.asarray(t.numpy())


# --- values and dtypes ---------------------------------------------------------------------------
def test_constant_dtypes_follow_tensorflow():
    assert tf.constant(1.5).dtype == tf.float32
    assert tf.constant(3).dtype == tf.int32
    assert tf.constant(2**40).dtype == tf.int64
    assert tf.constant(np.ones(2)).dtype == tf.float64            # numpy float64 stays float64, as in TF
    assert tf.constant(np.arange(3)).dtype == tf.int64
    assert tf.constant(np.ones(2), dtype=tf.float32).dtype == tf.float32
    assert tf.constant(True).dtype == tf.bool
    assert tf.constant(3.0, shape=[2, 2]).shape == (2, 2)
    with pytest.raises(TypeError):
        tf.constant(1.5, tf.int32)


def test_dtype_objects_compare_with_torch_numpy_and_names():
    x = tf.constant([1.0, 2.0])
    assert x.dtype == tf.float32 and tf.float32 == x.dtype and x.dtype != tf.int32
    assert tf.float32 == np.float32 and tf.float32 == "float32" and tf.as_dtype("int64") == tf.int64
    assert {torch.float32: "f"}[tf.float32] == "f"
    assert tf.float32.name == "float32" and tf.float32.as_numpy_dtype is np.float32
    assert tf.int32.max == 2**31 - 1 and tf.float32.is_floating and tf.int8.is_integer
    assert repr(tf.float64) == "tf.float64"


def test_numpy_works_on_tensors_that_require_grad():
    v = tf.Variable([1.0, 2.0])
    y = v * 3
    assert y.requires_grad
    np.testing.assert_allclose(y.numpy(), [3.0, 6.0])
    assert isinstance(tf.reduce_sum(y).numpy(), np.floating)      # scalar -> numpy scalar, as TF
    assert np.asarray(y).dtype == np.float32


def test_formatting_and_printing_like_tensorflow():
    assert f"{tf.constant(0.5):.2f}" == "0.50" and f"{tf.Variable(2.0) * 3:.1f}" == "6.0"
    assert str(tf.constant([1, 2])) == "tf.Tensor([1 2], shape=(2,), dtype=int32)"


def test_shape_is_a_tensorshape():
    x = tf.zeros([2, 3])
    assert x.shape.as_list() == [2, 3] and x.shape.rank == 2 and x.shape == (2, 3) and x.shape == [2, 3]
    assert x.shape[1:].num_elements() == 3
    assert tf.TensorShape([None, 3]).is_compatible_with([5, 3])
    assert str(tf.TensorShape([2])) == "(2,)" and repr(tf.TensorShape([None, 3])) == "TensorShape([None, 3])"


def test_operators_convert_numpy_and_lists_to_the_tensor_dtype():
    x = tf.constant([1.0, 2.0])
    for r in (x - np.ones(2), np.ones(2) - x, x + [1.0, 2.0], np.ones((1, 2)) @ tf.reshape(x, [2, 1])):
        assert isinstance(r, EagerTensor) and r.dtype == tf.float32
    np.testing.assert_allclose((np.ones(2) - x).numpy(), [0.0, -1.0])
    assert isinstance(np.exp(x), np.ndarray)                          # other numpy functions give arrays
    assert float(np.mean(tf.constant([1.0, 3.0]))) == 2.0


def test_integer_true_division_gives_float64_like_tensorflow():
    assert (tf.constant([1, 2]) / 2).dtype == tf.float64
    assert tf.divide(7, 2).numpy() == 3.5
    assert (tf.constant([3], tf.uint8) / tf.constant([2], tf.uint8)).dtype == tf.float32
    assert (tf.constant([-7]) // 2).numpy()[0] == -4 and (tf.constant([-7]) % 3).numpy()[0] == 2


def test_variable_plus_equals_is_refused_like_tensorflow():
    v = tf.Variable(1.0)
    with pytest.raises(RuntimeError, match="assign_add"):
        v += 1
    v.assign_add(2.0)
    v.assign(v * 2)
    assert float(v.numpy()) == 6.0
    assert repr(v).startswith("<tf.Variable 'Variable:0' shape=() dtype=float32, numpy=")


@pytest.mark.parametrize("name, np_fn", [
    ("reduce_sum", np.sum), ("reduce_mean", np.mean), ("reduce_max", np.max), ("reduce_min", np.min),
    ("reduce_prod", np.prod), ("reduce_std", np.std), ("reduce_variance", np.var),
])
@pytest.mark.parametrize("axis", [None, 0, 1, -1, [0, 2]])
@pytest.mark.parametrize("keepdims", [False, True])
def test_reductions_match_numpy(name, np_fn, axis, keepdims):
    a = RNG.standard_normal((3, 4, 5)).astype(np.float32)
    got = getattr(tf, name if hasattr(tf, name) else "reduce_sum")(a, axis=axis, keepdims=keepdims) \
        if hasattr(tf, name) else getattr(tf.math, name)(a, axis=axis, keepdims=keepdims)
    want = np_fn(a, axis=tuple(axis) if isinstance(axis, list) else axis, keepdims=keepdims)
    np.testing.assert_allclose(np_of(got), want, rtol=1e-5, atol=1e-5)


def test_integer_reductions_keep_dtype_and_truncate():
    assert tf.reduce_mean(tf.constant([1, 2])).numpy() == 1 and tf.reduce_mean([1, 2]).dtype == tf.int32
    assert tf.reduce_mean(tf.constant([-1, -2])).numpy() == -1            # toward zero, as C++ division
    assert tf.reduce_sum(tf.constant([1, 2])).dtype == tf.int32
    assert tf.reduce_sum(tf.zeros([2, 3]), axis=[]).shape == (2, 3)          # axis=[] reduces nothing


def test_argmax_defaults_to_axis_zero_and_int64():
    m = tf.constant([[1, 5], [3, 2]])
    np.testing.assert_array_equal(tf.argmax(m).numpy(), [1, 0])
    assert tf.argmax(m).dtype == tf.int64 and tf.argmax(m, 1, output_type=tf.int32).dtype == tf.int32


def test_shape_ops_match_numpy():
    a = RNG.standard_normal((2, 3, 4)).astype(np.float32)
    np.testing.assert_allclose(np_of(tf.transpose(a)), a.transpose())
    np.testing.assert_allclose(np_of(tf.transpose(a, perm=[1, 0, 2])), a.transpose(1, 0, 2))
    np.testing.assert_allclose(np_of(tf.reshape(a, [-1, 4])), a.reshape(-1, 4))
    np.testing.assert_allclose(np_of(tf.concat([a, a], axis=1)), np.concatenate([a, a], 1))
    np.testing.assert_allclose(np_of(tf.stack([a, a], axis=-1)), np.stack([a, a], -1))
    assert len(tf.unstack(a, axis=1)) == 3
    np.testing.assert_allclose(np_of(tf.gather(a, [[1, 0]], axis=2)), np.take(a, [[1, 0]], axis=2))
    np.testing.assert_allclose(np_of(tf.tile(a, [1, 2, 1])), np.tile(a, (1, 2, 1)))
    np.testing.assert_allclose(np_of(tf.expand_dims(a, 1)), a[:, None])
    np.testing.assert_allclose(np_of(tf.squeeze(a[:, :1], axis=1)), a[:, 0])
    np.testing.assert_allclose(np_of(tf.pad(a, [[0, 0], [1, 2], [2, 1]], "REFLECT")),
                               np.pad(a, [(0, 0), (1, 2), (2, 1)], "reflect"))
    np.testing.assert_allclose(np_of(tf.pad(a, [[0, 0], [1, 2], [2, 1]], "SYMMETRIC")),
                               np.pad(a, [(0, 0), (1, 2), (2, 1)], "symmetric"))
    np.testing.assert_array_equal(np_of(tf.shape(a)), [2, 3, 4])
    assert tf.shape(a).dtype == tf.int32 and int(tf.size(a)) == 24 and int(tf.rank(a)) == 3
    with pytest.raises(tf.errors.InvalidArgumentError, match="24 values"):
        tf.reshape(a, [5, 5])


def test_one_hot_where_clip_cast():
    np.testing.assert_array_equal(np_of(tf.one_hot([0, 2, -1, 7], 3)), np.eye(3, dtype=np.float32)[[0, 2]].tolist()
                                  + [[0, 0, 0], [0, 0, 0]])
    np.testing.assert_array_equal(np_of(tf.where([True, False, True])), [[0], [2]])
    np.testing.assert_array_equal(np_of(tf.where([True, False], [1, 2], [3, 4])), [1, 4])
    np.testing.assert_allclose(np_of(tf.clip_by_value([-2.0, 0.5, 3.0], 0.0, 1.0)), [0.0, 0.5, 1.0])
    np.testing.assert_array_equal(np_of(tf.cast([1.7, -1.7], tf.int32)), [1, -1])
    np.testing.assert_array_equal(np_of(tf.range(5)), np.arange(5))
    assert tf.range(5).dtype == tf.int32 and tf.range(0.0, 1.0, 0.25).dtype == tf.float32
    np.testing.assert_allclose(np_of(tf.linspace(0.0, 1.0, 5)), np.linspace(0, 1, 5))
    assert tf.ones_like([1, 2]).dtype == tf.int32 and tf.eye(2).dtype == tf.float32


def test_matmul_and_its_errors():
    a = RNG.standard_normal((2, 3)).astype(np.float32)
    b = RNG.standard_normal((2, 3)).astype(np.float32)
    np.testing.assert_allclose(np_of(tf.matmul(a, b, transpose_b=True)), a @ b.T, rtol=1e-5)
    np.testing.assert_allclose(np_of(tf.matmul(a, b, transpose_a=True)), a.T @ b, rtol=1e-5)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"In\[0\]: \[2,3\], In\[1\]: \[2,3\]"):
        tf.matmul(a, b)
    with pytest.raises(tf.errors.InvalidArgumentError, match="rank >= 2"):
        tf.matmul([1.0, 2.0], [1.0, 2.0])


def test_nn_functions_match_torch():
    z = RNG.standard_normal((4, 5)).astype(np.float32)
    y = np.array([0, 3, 1, 4])
    zt = torch.tensor(z)
    np.testing.assert_allclose(np_of(tf.nn.softmax(z)), torch.softmax(zt, -1).numpy(), rtol=1e-6)
    np.testing.assert_allclose(np_of(tf.nn.sparse_softmax_cross_entropy_with_logits(y, z)),
                               torch.nn.functional.cross_entropy(zt, torch.tensor(y), reduction="none").numpy(),
                               rtol=1e-5)
    onehot = np.eye(5, dtype=np.float32)[y]
    np.testing.assert_allclose(np_of(tf.nn.softmax_cross_entropy_with_logits(onehot, z)),
                               torch.nn.functional.cross_entropy(zt, torch.tensor(y), reduction="none").numpy(),
                               rtol=1e-5)
    labels = (RNG.random((4, 5)) > 0.5).astype(np.float32)
    np.testing.assert_allclose(
        np_of(tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=z)),
        torch.nn.functional.binary_cross_entropy_with_logits(zt, torch.tensor(labels), reduction="none").numpy(),
        rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(float(tf.nn.l2_loss(z)), (z ** 2).sum() / 2, rtol=1e-5)


def test_conv_and_pool_are_nhwc():
    x = RNG.standard_normal((2, 6, 6, 3)).astype(np.float32)
    w = RNG.standard_normal((3, 3, 3, 4)).astype(np.float32)
    got = tf.nn.conv2d(x, w, strides=1, padding="VALID")
    want = torch.nn.functional.conv2d(torch.tensor(x).permute(0, 3, 1, 2), torch.tensor(w).permute(3, 2, 0, 1))
    np.testing.assert_allclose(np_of(got), want.permute(0, 2, 3, 1).numpy(), rtol=1e-4, atol=1e-5)
    assert tf.nn.conv2d(x, w, strides=[1, 2, 2, 1], padding="SAME").shape == (2, 3, 3, 4)
    pooled = tf.nn.max_pool2d(x, ksize=2, strides=2, padding="VALID")
    np.testing.assert_allclose(np_of(pooled), x.reshape(2, 3, 2, 3, 2, 3).max(axis=(2, 4)))
    assert tf.nn.bias_add(x, np.ones(3, np.float32)).shape == x.shape


def test_dropout_scales_survivors_and_keeps_the_mean():
    x = tf.ones([20000])
    y = tf.nn.dropout(x, rate=0.25)
    kept = np_of(y)[np_of(y) > 0]
    np.testing.assert_allclose(kept, 1 / 0.75, rtol=1e-6)
    assert abs(np_of(y).mean() - 1.0) < 0.05
    with pytest.raises(ValueError, match="keep_prob"):
        tf.nn.dropout(x, rate=1.0)


def test_random_seeds_repeat_sequences():
    tf.random.set_seed(7)
    a1, b1 = tf.random.normal([3]), tf.random.uniform([3], seed=1)
    b1b = tf.random.uniform([3], seed=1)
    tf.random.set_seed(7)
    a2, b2 = tf.random.normal([3]), tf.random.uniform([3], seed=1)
    np.testing.assert_array_equal(np_of(a1), np_of(a2))
    np.testing.assert_array_equal(np_of(b1), np_of(b2))
    assert not np.array_equal(np_of(b1), np_of(b1b))          # an op seed advances, as in TF eager
    t = tf.random.truncated_normal([10000], stddev=2.0)
    assert float(tf.reduce_max(tf.abs(t))) <= 4.0
    assert tf.random.uniform([5], 0, 10, tf.int32).dtype == tf.int32
    assert sorted(np_of(tf.random.shuffle(tf.range(10))).tolist()) == list(range(10))


# --- GradientTape vs torch autograd ----------------------------------------------------------------
def _torch_grads(fn, *arrays):
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    out = fn(*ts)
    return torch.autograd.grad(out.sum(), ts)


def test_gradient_matches_torch_autograd_for_an_mlp_loss():
    x = RNG.standard_normal((8, 5)).astype(np.float32)
    w1, w2 = (RNG.standard_normal(s).astype(np.float32) for s in ((5, 4), (4, 1)))
    W1, W2 = tf.Variable(w1), tf.Variable(w2)
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.square(tf.nn.sigmoid(tf.matmul(tf.nn.relu(tf.matmul(x, W1)), W2)) - 0.5))
    g1, g2 = tape.gradient(loss, [W1, W2])
    r1, r2 = _torch_grads(lambda a, b: ((torch.sigmoid(torch.relu(torch.tensor(x) @ a) @ b) - 0.5) ** 2).mean(),
                          w1, w2)
    np.testing.assert_allclose(np_of(g1), r1.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np_of(g2), r2.numpy(), rtol=1e-5, atol=1e-6)
    assert g1.shape == W1.shape and g1.device == W1.device


def test_non_scalar_target_is_summed_and_structures_are_kept():
    v = tf.Variable([1.0, 2.0, 3.0])
    w = tf.Variable(2.0)
    with tf.GradientTape() as tape:
        y = v * v * w                               # non-scalar target: TF differentiates its sum
    grads = tape.gradient(y, {"v": v, "pair": (w, v)})
    np.testing.assert_allclose(np_of(grads["v"]), 2 * np.array([1, 2, 3]) * 2)
    np.testing.assert_allclose(float(grads["pair"][0]), 14.0)


def test_unconnected_and_unwatched_sources_give_none():
    v, u = tf.Variable(1.0), tf.Variable(5.0)
    c = tf.constant(3.0)
    with tf.GradientTape() as tape:
        y = v * c
    gv, gu, gc = tape.gradient(y, [v, u, c])
    assert float(gv) == 3.0 and gu is None and gc is None
    with tf.GradientTape() as tape:
        y = v * 2
    assert float(tape.gradient(y, u, unconnected_gradients=tf.UnconnectedGradients.ZERO)) == 0.0


def test_watch_constants_and_watch_accessed_variables_false():
    x = tf.constant(3.0)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = x ** 2
    assert float(tape.gradient(y, x)) == 6.0
    assert not x.requires_grad                      # released once the tape is done
    v, u = tf.Variable(2.0), tf.Variable(3.0)
    with tf.GradientTape(watch_accessed_variables=False) as tape:
        tape.watch(v)
        y = v * u
    gv, gu = tape.gradient(y, [v, u])
    assert float(gv) == 3.0 and gu is None


def test_persistent_tape_and_the_error_on_a_second_call():
    x = tf.constant(2.0)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y, z = x * x, x * x * x
    assert float(tape.gradient(y, x)) == 4.0 and float(tape.gradient(z, x)) == 12.0
    del tape
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    tape.gradient(y, x)
    with pytest.raises(RuntimeError, match="non-persistent GradientTape"):
        tape.gradient(y, x)


def test_nested_tapes_give_second_derivatives():
    x = tf.Variable(1.5)
    with tf.GradientTape() as outer:
        with tf.GradientTape() as inner:
            y = x ** 3
        dy = inner.gradient(y, x)
    d2y = outer.gradient(dy, x)
    assert float(dy) == pytest.approx(3 * 1.5 ** 2) and float(d2y) == pytest.approx(6 * 1.5)


def test_stop_recording_and_stop_gradient():
    x = tf.Variable(2.0)
    with tf.GradientTape() as tape:
        y = x * x
        with tape.stop_recording():
            z = x * 10
        w = y + z + tf.stop_gradient(x * 100)
    assert float(tape.gradient(w, x)) == 4.0


def test_jacobian_matches_torch():
    a = RNG.standard_normal((3,)).astype(np.float32)
    x = tf.Variable(a)
    with tf.GradientTape() as tape:
        y = tf.sin(x) * tf.reduce_sum(x)
    jac = tape.jacobian(y, x)
    want = torch.autograd.functional.jacobian(lambda t: torch.sin(t) * t.sum(), torch.tensor(a))
    np.testing.assert_allclose(np_of(jac), want.numpy(), rtol=1e-5, atol=1e-6)


def test_custom_gradient():
    @tf.custom_gradient
    def clip_grad(x):
        def grad(dy):
            return tf.clip_by_value(dy, -0.1, 0.1)
        return x * 1.0, grad
    v = tf.Variable([1.0, 2.0])
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(clip_grad(v) * 5.0)
    np.testing.assert_allclose(np_of(tape.gradient(y, v)), [0.1, 0.1])


def test_gradients_work_with_an_update_rule_step():
    w = tf.Variable([[1.0], [2.0]])
    x = np.array([[1.0, 1.0]], np.float32)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(tf.matmul(x, w))
    (g,) = tape.gradient(loss, [w])
    with torch.no_grad():
        as_plain(w).sub_(0.5 * as_plain(g))
    np.testing.assert_allclose(np_of(w), [[0.5], [1.5]])


# --- tf.function and tf.Module ------------------------------------------------------------------
def test_tf_function_forms():
    @tf.function
    def double(x):
        return x * 2

    @tf.function(input_signature=[tf.TensorSpec([None, 2], tf.float32)])
    def total(x):
        return tf.reduce_sum(x)

    out = double(np.ones(2, np.float32))
    assert isinstance(out, EagerTensor)
    assert float(total(np.ones((3, 2), np.float32))) == 6.0
    with pytest.raises(TypeError, match="Binding inputs to tf.function failed"):   # TF's error
        total(np.ones((3, 3), np.float32))

    class M(tf.Module):
        def __init__(self):
            super().__init__()
            self.w = tf.Variable(2.0)
            self.inner = [tf.Module()]
            self.inner[0].b = tf.Variable(1.0, trainable=False)

        @tf.function(jit_compile=True, reduce_retracing=True)
        def __call__(self, x):
            return x * self.w

    m = M()
    assert float(m(3.0)) == 6.0
    assert len(m.variables) == 2 and len(m.trainable_variables) == 1 and m.name == "m"


def test_control_flow_helpers():
    assert int(tf.cond(tf.constant(True), lambda: tf.constant(1), lambda: tf.constant(2))) == 1
    i, s = tf.while_loop(lambda i, s: i < 5, lambda i, s: (i + 1, s + i), (tf.constant(0), tf.constant(0)))
    assert int(i) == 5 and int(s) == 10
    np.testing.assert_array_equal(np_of(tf.map_fn(lambda r: r * 2, tf.constant([[1, 2], [3, 4]]))), [[2, 4], [6, 8]])


def test_keras_set_random_seed_is_tf_set_seed_plus_numpy_and_python():
    import random
    tf.keras.utils.set_random_seed(3)
    a = (tf.random.uniform([3], seed=1).numpy(), tf.random.normal([2]).numpy(), np.random.rand(), random.random())
    tf.random.set_seed(3)
    b = (tf.random.uniform([3], seed=1).numpy(), tf.random.normal([2]).numpy())
    np.testing.assert_array_equal(a[0], b[0])                   # op-seeded draws follow the global seed
    np.testing.assert_array_equal(a[1], b[1])
    np.random.seed(3)
    random.seed(3)
    assert (a[2], a[3]) == (np.random.rand(), random.random())
