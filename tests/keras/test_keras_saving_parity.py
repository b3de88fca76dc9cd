"""Lambda layers, register_keras_serializable and get_file, against Keras 3.15.

A Lambda saved by Keras is refused on load with Keras' message unless safe_mode=False, here as
there; files cross both ways; registered classes and functions load without custom_objects."""
import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
keras = pytest.importorskip("keras")
pytest.importorskip("tensorflow")
pytestmark = pytest.mark.parity

from course.tf import keras as ckeras  # noqa: E402

X = np.random.default_rng(0).random((4, 3)).astype(np.float32)


def _lambda_model(k):
    return k.Sequential([k.Input((3,)), k.layers.Dense(2), k.layers.Lambda(lambda x: x * 2.0 + 1.0)])


def _messages(load, path, **kwargs):
    with pytest.raises(ValueError) as info:
        load(path, **kwargs)
    return str(info.value)


@pytest.mark.parametrize("writer", ["keras", "course"])
def test_lambda_is_refused_then_loaded_with_safe_mode_false(tmp_path, writer):
    k = keras if writer == "keras" else ckeras
    model = _lambda_model(k)
    path = str(tmp_path / "lam.keras")
    model.save(path)
    expected = np.asarray(model.predict(X, verbose=0))
    ref_msg = _messages(keras.models.load_model, path)
    got_msg = _messages(ckeras.models.load_model, path)
    assert "Requested the deserialization of a `Lambda` layer" in got_msg
    assert ref_msg in got_msg                   # Keras' text, after the file's name
    for load in (keras.models.load_model, ckeras.models.load_model):
        loaded = load(path, safe_mode=False)
        np.testing.assert_allclose(np.asarray(loaded.predict(X, verbose=0)), expected, atol=1e-5)


def test_lambda_bytecode_from_another_python_is_a_clear_error():
    from course.keras.layers.lambda_layer import Lambda
    config = {"name": "l", "function": {"class_name": "__lambda__",
                                        "config": {"code": "AAAA", "defaults": None, "closure": None}}}
    with pytest.raises(ValueError, match="specific to the Python version"):
        Lambda.from_config(config, safe_mode=False)


def test_register_keras_serializable_loads_without_custom_objects(tmp_path):
    @ckeras.saving.register_keras_serializable(package="course_test")
    class Scale(ckeras.layers.Layer):
        def __init__(self, factor=2.0, **kwargs):
            super().__init__(**kwargs)
            self.factor = factor

        def call(self, x):
            return x * self.factor

        def get_config(self):
            return {**super().get_config(), "factor": self.factor}

    @ckeras.saving.register_keras_serializable(package="course_test")
    def plus_one(x):
        return x + 1.0

    assert ckeras.saving.get_registered_name(Scale) == "course_test>Scale"
    assert ckeras.saving.get_registered_object("course_test>plus_one") is plus_one
    model = ckeras.Sequential([ckeras.Input((3,)), Scale(3.0), ckeras.layers.Lambda(plus_one)])
    path = str(tmp_path / "reg.keras")
    model.save(path)
    loaded = ckeras.models.load_model(path)                    # safe mode: a named function is no code
    np.testing.assert_allclose(np.asarray(loaded.predict(X, verbose=0)), X * 3.0 + 1.0, atol=1e-6)
    with pytest.raises(ValueError, match="already been registered"):
        ckeras.saving.register_keras_serializable(package="course_test", name="Scale")(ckeras.layers.Dense)


def test_get_file_builds_mnist_npz_offline(tmp_path):
    path = ckeras.utils.get_file("mnist.npz", origin="https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
                                 "mnist.npz", cache_dir=str(tmp_path))
    assert path == os.path.join(str(tmp_path), "datasets", "mnist.npz")
    with np.load(path) as data:
        (x_train, y_train), (x_test, y_test) = ckeras.datasets.mnist.load_data()
        np.testing.assert_array_equal(data["x_train"], x_train)
        np.testing.assert_array_equal(data["y_test"], y_test)
        assert data["x_train"].dtype == np.uint8 and data["x_test"].shape == (10000, 28, 28)


def test_get_file_offline_message_names_the_path(tmp_path):
    with pytest.raises(OSError) as info:
        ckeras.utils.get_file("cats.zip", origin="https://example.com/cats.zip", cache_dir=str(tmp_path))
    assert str(tmp_path / "datasets" / "cats.zip") in str(info.value) and "does not download" in str(info.value)
    (tmp_path / "datasets").mkdir(exist_ok=True)
    (tmp_path / "datasets" / "a.txt").write_bytes(b"abc")
    assert ckeras.utils.get_file("a.txt", cache_dir=str(tmp_path)).endswith("a.txt")
    with pytest.raises(ValueError, match="not the expected"):
        ckeras.utils.get_file("a.txt", cache_dir=str(tmp_path), file_hash="0" * 64)


def test_summary_of_a_model_loaded_from_h5_prints_the_optimizer_line(tmp_path):
    import contextlib
    import io
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.compile(keras.optimizers.Adam(), keras.losses.MeanSquaredError())
    model.fit(np.ones((4, 3), "float32"), np.ones((4, 2), "float32"), verbose=0)
    path = str(tmp_path / "m.h5")
    model.save(path)
    texts = []
    for k in (keras, ckeras):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            k.models.load_model(path).summary()
        texts.append(out.getvalue())
    assert "Optimizer params: 2 (12.00 B)" in texts[0]
    assert texts[1] == texts[0]
