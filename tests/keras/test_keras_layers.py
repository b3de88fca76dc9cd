"""course.keras layers against independent references (numpy formulas, torch's own NCHW ops)."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course.tf import keras
from course.tf.keras import layers

rng = np.random.RandomState(0)


def test_names_are_keras_names():
    keras.backend.clear_session()
    assert [layers.Dense(2).name, layers.Dense(2).name, layers.Conv2D(1, 1).name] == ["dense", "dense_1", "conv2d"]
    assert layers.MaxPooling2D().name == "max_pooling2d"
    assert layers.BatchNormalization().name == "batch_normalization"
    assert layers.Dense(2, name="mine").name == "mine"


def test_dense_is_x_w_plus_b_with_keras_layout():
    d = layers.Dense(3, activation="relu")
    x = rng.rand(4, 5)                                   # float64 -> float32
    y = d(x)
    w, b = d.get_weights()
    assert w.shape == (5, 3) and b.shape == (3,) and not b.any()          # kernel (in, out), zero bias
    assert y.dtype == torch.float32 and hasattr(y, "numpy")
    np.testing.assert_allclose(y.numpy(), np.maximum(x.astype(np.float32) @ w + b, 0), rtol=1e-5, atol=1e-6)


def test_glorot_uniform_limits():
    d = layers.Dense(300)
    d.build((None, 200))
    w = d.kernel.numpy()
    limit = np.sqrt(6 / (200 + 300))
    assert np.abs(w).max() <= limit and np.abs(w).max() > 0.9 * limit


def test_conv2d_matches_torch_nchw():
    conv = layers.Conv2D(4, (3, 2), strides=(2, 1), padding="valid", activation=None)
    x = rng.rand(2, 9, 7, 3).astype(np.float32)          # NHWC
    y = conv(x).numpy()
    k, b = conv.get_weights()
    assert k.shape == (3, 2, 3, 4)                       # (h, w, in, out)
    ref = F.conv2d(torch.from_numpy(x).permute(0, 3, 1, 2), torch.from_numpy(k).permute(3, 2, 0, 1),
                   torch.from_numpy(b), stride=(2, 1)).permute(0, 2, 3, 1).numpy()
    np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-5)


def test_conv2d_same_padding_output_shape():
    conv = layers.Conv2D(2, 5, padding="same", strides=2)
    assert tuple(conv(np.zeros((1, 28, 28, 1), np.float32)).shape) == (1, 14, 14, 2)


def test_pooling_matches_torch():
    x = rng.rand(2, 6, 6, 3).astype(np.float32)
    t = torch.from_numpy(x).permute(0, 3, 1, 2)
    np.testing.assert_allclose(layers.MaxPooling2D()(x).numpy(), F.max_pool2d(t, 2).permute(0, 2, 3, 1).numpy())
    np.testing.assert_allclose(layers.AveragePooling2D(2)(x).numpy(), F.avg_pool2d(t, 2).permute(0, 2, 3, 1).numpy(),
                               rtol=1e-6)


def test_flatten_reshape_channels_last_order():
    x = np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 3, 4, 5)
    np.testing.assert_array_equal(layers.Flatten()(x).numpy(), x.reshape(2, -1))
    np.testing.assert_array_equal(layers.Reshape((4, -1))(x).numpy(), x.reshape(2, 4, 15))


def test_dropout_off_in_inference_on_in_training():
    drop = layers.Dropout(0.5)
    x = np.ones((200, 50), np.float32)
    np.testing.assert_array_equal(drop(x).numpy(), x)                      # model(x) outside fit: inference
    y = drop(x, training=True).numpy()
    assert set(np.unique(y)) <= {0.0, 2.0} and 0.4 < (y == 0).mean() < 0.6


def test_batch_norm_keras_update_and_inference():
    bn = layers.BatchNormalization()
    x = rng.rand(16, 3).astype(np.float32) * 4 + 1
    y = bn(x, training=True).numpy()
    mean, var = x.mean(0), x.var(0)                                       # biased variance, as Keras
    np.testing.assert_allclose(y, (x - mean) / np.sqrt(var + 1e-3), rtol=1e-4, atol=1e-5)
    gamma, beta, mm, mv = bn.get_weights()
    np.testing.assert_allclose(mm, 0.01 * mean, rtol=1e-5)               # 0.99·0 + 0.01·μ
    np.testing.assert_allclose(mv, 0.99 + 0.01 * var, rtol=1e-5)
    y_inf = bn(x).numpy()
    np.testing.assert_allclose(y_inf, (x - mm) / np.sqrt(mv + 1e-3), rtol=1e-4, atol=1e-5)
    assert [w.shape for w in bn.weights] == [(3,)] * 4 and len(bn.trainable_weights) == 2


def test_softmax_and_activation_layers():
    x = rng.randn(3, 4).astype(np.float32)
    e = np.exp(x - x.max(1, keepdims=True))
    np.testing.assert_allclose(layers.Softmax()(x).numpy(), e / e.sum(1, keepdims=True), rtol=1e-5)
    np.testing.assert_allclose(layers.Activation("tanh")(x).numpy(), np.tanh(x), rtol=1e-5)


def test_regularizers_add_to_losses():
    d = layers.Dense(2, kernel_regularizer=keras.regularizers.L2(0.1), activity_regularizer=keras.regularizers.L1(0.5))
    x = rng.rand(4, 3).astype(np.float32)
    y = d(x).numpy()
    w = d.kernel.numpy()
    losses = [float(l) for l in d.losses]
    np.testing.assert_allclose(losses[0], 0.1 * (w ** 2).sum(), rtol=1e-5)
    np.testing.assert_allclose(losses[1], 0.5 * np.abs(y).sum() / 4, rtol=1e-5)   # activity / batch size


def test_dense_rank_error_tells_to_flatten():
    with pytest.raises(ValueError, match=r"Dense expects input of shape \(batch, features\); got \(32, 28, 28\)\. "
                                         r"Add Flatten\(\) first\."):
        layers.Dense(10)(np.zeros((32, 28, 28), np.float32))


def test_conv_rank_error_tells_to_reshape():
    with pytest.raises(ValueError, match=r"Conv2D expects input of shape \(batch, height, width, channels\).*Reshape"):
        layers.Conv2D(2, 3)(np.zeros((4, 28, 28), np.float32))


def test_dense_feature_mismatch_after_build():
    d = layers.Dense(2)
    d(np.zeros((1, 3), np.float32))
    with pytest.raises(ValueError, match="built for 3 input features"):
        d(np.zeros((1, 4), np.float32))


def test_sequential_weights_order_and_counts():
    m = keras.Sequential([layers.Flatten(input_shape=(28, 28)), layers.Dense(128, activation="relu"),
                          layers.Dropout(0.2), layers.Dense(10)])
    assert m.count_params() == 784 * 128 + 128 + 128 * 10 + 10
    assert [tuple(w.shape) for w in m.get_weights()] == [(784, 128), (128,), (128, 10), (10,)]
    assert [l.name.split("_")[0] for l in m.layers] == ["flatten", "dense", "dropout", "dense"]
    assert len(m.trainable_variables) == 4


def test_subclassed_model_tracks_attributes():
    class MyModel(keras.Model):
        def __init__(self):
            super().__init__()
            self.conv1 = layers.Conv2D(4, 3, activation="relu")
            self.flatten = layers.Flatten()
            self.d1 = layers.Dense(8, activation="relu")
            self.d2 = layers.Dense(10)

        def call(self, x, training=None):
            return self.d2(self.d1(self.flatten(self.conv1(x))))

    m = MyModel()
    out = m(np.zeros((2, 8, 8, 1), np.float32))
    assert tuple(out.shape) == (2, 10)
    assert [l.name.split("_")[0] for l in m.layers] == ["conv2d", "flatten", "dense", "dense"]
    assert len(m.trainable_variables) == 6


def test_functional_model_matches_manual_composition():
    inp = keras.Input(shape=(5,))
    h = layers.Dense(4, activation="relu")
    o = layers.Dense(2)
    model = keras.Model(inp, o(h(inp)))
    x = rng.rand(3, 5).astype(np.float32)
    np.testing.assert_allclose(model(x).numpy(), o(h(x)).numpy(), rtol=1e-6)
    assert [type(l).__name__ for l in model.layers] == ["InputLayer", "Dense", "Dense"]


def test_calls_record_gradients_only_when_asked_as_in_tensorflow():
    """model(x) outside a GradientTape keeps no graph (no activations held alive); inside a tape, or a
    recording_gradients() block for torch-style loops, it does, and the gradient is d(sum(xW+b))."""
    from course.keras.layers.call_context import recording_gradients
    from course.tf import GradientTape
    model = keras.Sequential([layers.Dense(3, input_shape=(4,))])
    x = rng.rand(5, 4).astype(np.float32)
    assert model(x).grad_fn is None and not model(x).requires_grad
    expected_dw = np.repeat(x.sum(0)[:, None], 3, axis=1)           # ∂Σ(xW+b)/∂W = xᵀ·1
    with GradientTape() as tape:
        loss = model(x)
    dw, db = tape.gradient(loss, model.trainable_variables)
    np.testing.assert_allclose(dw.numpy(), expected_dw, rtol=1e-5)
    np.testing.assert_allclose(db.numpy(), np.full(3, 5.0), rtol=1e-6)
    kernel = model.trainable_variables[0]
    with recording_gradients():
        out = model(x)
    out.as_subclass(torch.Tensor).sum().backward()
    np.testing.assert_allclose(kernel.grad.as_subclass(torch.Tensor).numpy(), expected_dw, rtol=1e-5)
    kernel.grad = None
    assert model(x).grad_fn is None                                  # the block is over
