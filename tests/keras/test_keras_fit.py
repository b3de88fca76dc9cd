"""compile/fit/evaluate/predict: behaviour against independent references (torch, numpy), and errors."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import course.device
from course.tf import keras
from course.tf.keras import layers

rng = np.random.RandomState(0)


def blobs(n=256, d=6, classes=3, seed=0):
    r = np.random.RandomState(seed)
    centers = r.randn(classes, d) * 3
    y = r.randint(0, classes, n)
    return (centers[y] + r.randn(n, d)).astype(np.float32), y


def mlp(d=6, classes=3, activation="softmax"):
    return keras.Sequential([keras.Input((d,)), layers.Dense(16, activation="relu"),
                             layers.Dense(classes, activation=activation)])


def test_fit_one_sgd_step_equals_torch_reference():
    x, y = blobs(32)
    model = mlp(activation=None)
    model.compile(optimizer=keras.optimizers.SGD(0.1),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    w1, b1, w2, b2 = [torch.tensor(w, requires_grad=True) for w in model.get_weights()]
    logits = torch.relu(torch.from_numpy(x) @ w1 + b1) @ w2 + b2
    loss = F.cross_entropy(logits, torch.from_numpy(y))
    loss.backward()
    model.fit(x, y, batch_size=32, epochs=1, shuffle=False, verbose=0)
    for ours, ref in zip(model.get_weights(), (w1, b1, w2, b2)):
        np.testing.assert_allclose(ours, (ref - 0.1 * ref.grad).detach().numpy(), rtol=1e-5, atol=1e-6)


def test_history_evaluate_predict_shapes_and_values():
    x, y = blobs(300)
    model = mlp()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    hist = model.fit(x, y, 64, 3, verbose=0)                     # Keras' positional order
    assert set(hist.history) == {"loss", "accuracy"} and len(hist.history["loss"]) == 3
    assert hist.epoch == [0, 1, 2] and model.history is hist
    loss, acc = model.evaluate(x, y, verbose=0)
    p = model.predict(x, verbose=0)
    assert isinstance(p, np.ndarray) and p.shape == (300, 3) and p.dtype == np.float32
    np.testing.assert_allclose(p.sum(1), 1, rtol=1e-5)
    assert abs(acc - (p.argmax(1) == y).mean()) < 1e-6
    ref = -np.log(np.clip(p[np.arange(300), y], 1e-7, 1)).mean()
    assert abs(loss - ref) < 1e-4
    assert model.evaluate(x, y, verbose=0, return_dict=True)["accuracy"] == pytest.approx(acc)


def test_evaluate_without_metrics_is_a_scalar():
    x, y = blobs(64)
    model = mlp()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    assert isinstance(model.evaluate(x, y, verbose=0), float)


def test_accuracy_string_resolves_by_loss_shapes():
    x, y = blobs(64)
    onehot = keras.utils.to_categorical(y, 3)
    assert onehot.dtype == np.float32 and onehot.shape == (64, 3)
    model = mlp()
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, onehot, verbose=0)
    assert type(model.metrics[1]).__name__ == "CategoricalAccuracy"
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, verbose=0)
    assert type(model.metrics[1]).__name__ == "SparseCategoricalAccuracy"
    binary = keras.Sequential([keras.Input((6,)), layers.Dense(1, activation="sigmoid")])
    binary.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    binary.fit(x, (y == 0).astype("float32"), verbose=0)
    assert type(binary.metrics[1]).__name__ == "BinaryAccuracy"


def test_validation_split_takes_the_last_samples_before_shuffling():
    x, y = blobs(100)
    model = mlp()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    hist = model.fit(x, y, epochs=1, validation_split=0.2, verbose=0)
    val_loss, val_acc = model.evaluate(x[80:], y[80:], verbose=0)
    assert hist.history["val_loss"][0] == pytest.approx(val_loss, rel=1e-5)
    assert hist.history["val_accuracy"][0] == pytest.approx(val_acc)


def test_fit_accepts_a_dataset_like_iterable():
    x, y = blobs(96)
    class Batches:                                               # what tf.data / a DataLoader provide
        def __iter__(self):
            return iter([(x[i:i + 32], y[i:i + 32]) for i in range(0, 96, 32)])

        def __len__(self):
            return 3
    batches = Batches()
    model = mlp()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    hist = model.fit(batches, epochs=2, verbose=0)
    assert len(hist.history["loss"]) == 2
    assert model.evaluate(batches, verbose=0)[0] > 0


def test_train_on_batch_and_predict_on_batch():
    x, y = blobs(32)
    model = mlp()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    loss, acc = model.train_on_batch(x, y)
    assert loss > 0 and 0 <= acc <= 1 and int(model.optimizer.iterations) == 1
    assert model.predict_on_batch(x).shape == (32, 3)


def test_model_call_outside_fit_is_inference_mode():
    model = keras.Sequential([keras.Input((50,)), layers.Dropout(0.5)])
    x = np.ones((4, 50), np.float32)
    np.testing.assert_array_equal(model(x).numpy(), x)
    assert (model(x, training=True).numpy() == 0).any()


def test_float64_inputs_become_float32_and_results_are_eager():
    model = mlp()
    out = model(np.zeros((2, 6)))
    assert out.dtype == torch.float32 and isinstance(out.numpy(), np.ndarray)
    assert out.device == course.device.get()


def test_keras_optimizers_defaults_and_strings():
    assert keras.optimizers.Adam().epsilon == 1e-7
    assert float(keras.optimizers.SGD().learning_rate) == pytest.approx(0.01)
    opt = keras.optimizers.get("RMSprop")
    opt.learning_rate = 0.05
    assert float(opt.learning_rate) == pytest.approx(0.05)
    with pytest.raises(ValueError,
                       match="Could not interpret optimizer identifier: adamax. .*valid names: adagrad, adam, "
                                         "adamw, rmsprop, sgd"):
        keras.optimizers.get("adamax")


def test_apply_gradients_and_minimize_match_plain_sgd():
    v = course.tape.Variable(np.array([1.0, 2.0], np.float32))
    opt = keras.optimizers.SGD(learning_rate=0.5)
    opt.apply_gradients([(torch.tensor([0.2, -0.4]), v)])
    np.testing.assert_allclose(v.numpy(), [0.9, 2.2], rtol=1e-6)
    opt.minimize(lambda: (v * v).sum(), [v])                    # grad 2v
    np.testing.assert_allclose(v.numpy(), [0.0, 0.0], atol=1e-6)
    assert int(opt.iterations) == 2


def test_metrics_objects_against_numpy():
    m = keras.metrics.SparseCategoricalAccuracy()
    p = rng.rand(10, 4).astype(np.float32)
    t = rng.randint(0, 4, 10)
    m.update_state(t[:5], p[:5])
    m.update_state(t[5:], p[5:])
    assert float(m.result()) == pytest.approx((p.argmax(1) == t).mean())
    m.reset_state()
    assert float(m.result()) == 0.0
    mean = keras.metrics.Mean()
    mean(2.0), mean(4.0)
    assert float(mean.result()) == 3.0
    acc = keras.metrics.Accuracy()
    acc(np.array([1, 2, 3]), np.array([1, 0, 3]))
    assert float(acc.result()) == pytest.approx(2 / 3)


def test_loss_objects_use_logits_behind_softmax():
    logits = np.array([[100.0, -100.0]], np.float32)
    model = keras.Sequential([keras.Input((2,)), layers.Activation("softmax")])
    p = model(logits)
    loss = keras.losses.SparseCategoricalCrossentropy()(np.array([1]), p)
    assert float(loss) == pytest.approx(200.0)             # not -log(1e-7): the logits are used, as Keras does


# -- errors --------------------------------------------------------------------------------------------
def test_fit_before_compile():
    with pytest.raises(RuntimeError, match=r"compile\(\) before fit\(\)"):
        mlp().fit(*blobs(8), verbose=0)


def test_unknown_strings_list_the_valid_ones():
    model = mlp()
    with pytest.raises(ValueError, match="Could not interpret loss identifier: cross_entropy. .*valid names: "
                                         ".*sparse_categorical_crossentropy"):
        model.compile(optimizer="adam", loss="cross_entropy")
    with pytest.raises(ValueError, match="Could not interpret metric identifier: acuracy. .*valid names: .*accuracy"):
        model.compile(optimizer="adam", loss="mse", metrics=["acuracy"])
    with pytest.raises(ValueError, match="Could not interpret optimizer identifier: adm"):
        model.compile(optimizer="adm", loss="mse")


def test_labels_out_of_range():
    x, y = blobs(64)
    y[40] = 7
    model = mlp()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match=r"Labels must be integers in \[0, 3\).*from 0 to 7"):
        model.fit(x, y, verbose=0)


def test_nan_in_inputs_names_the_sample():
    x, y = blobs(64)
    x[17, 2] = np.nan
    model = mlp()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match=r"x contains NaN at index \(17, 2\) \(sample 17"):
        model.fit(x, y, verbose=0)


def test_mismatched_lengths():
    x, y = blobs(64)
    model = mlp()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match="same number of samples; got x with 64 and y with 63"):
        model.fit(x, y[:63], verbose=0)


def test_unsupported_facade_name_is_clear():
    with pytest.raises(NotImplementedError, match="LSTM is not supported"):
        layers.LSTM
    assert not hasattr(layers, "LSTM")                      # hasattr still works (AttributeError too)
