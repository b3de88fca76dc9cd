"""The course.tf facade: names, aliases, the unsupported-name error, and a seed program run through it."""
import io
import contextlib
import pathlib
import re

import numpy as np
import pytest

import course.tf as tf
from course.tf._unsupported import UnsupportedError, module_getattr

SEEDS = pathlib.Path(__file__).resolve().parents[2] / "shared" / "seed_programs"
SEED001 = '''import tensorflow as tf
import numpy as np

X_train = np.random.rand(100, 10).astype('float32')
y_train = np.random.rand(100, 1).astype('float32')
W1 = tf.Variable(tf.random.normal([10, 5]), name='W1')
b1 = tf.Variable(tf.random.normal([5]), name='b1')
W2 = tf.Variable(tf.random.normal([5, 1]), name='W2')
b2 = tf.Variable(tf.random.normal([1]), name='b2')

def neural_network_model(X):
    X_W1 = tf.matmul(X, W1) + b1
    X_W2 = tf.matmul(X_W1, W2) + b2
    y_pred = tf.nn.sigmoid(X_W2)
    return y_pred

def loss_function(y_true, y_pred):
    return tf.reduce_mean(tf.square(y_true - y_pred))

def train(X_train, y_train, epochs, learning_rate):
    optimizer = tf.optimizers.SGD(learning_rate=learning_rate)
    for epoch in range(epochs):
        with tf.GradientTape() as tape:
            loss_value = loss_function(y_train, neural_network_model(X_train))
        gradients = tape.gradient(loss_value, [W1, b1, W2, b2])
        optimizer.apply_gradients(zip(gradients, [W1, b1, W2, b2]))
        print(f'Epoch {epoch+1}/{epochs}, Loss: {loss_value.numpy()}')

train(X_train, y_train, epochs=100, learning_rate=0.01)
'''


def test_both_import_forms_give_the_same_module():
    from course import tf as tf2
    assert tf2 is tf
    assert tf.__version__.startswith("2.") and "course" in tf.__version__


def test_core_names_exist():
    for name in ["constant", "Variable", "GradientTape", "function", "matmul", "reduce_mean", "argmax", "cast",
                 "reshape", "one_hot", "random", "nn", "math", "data", "config", "test", "errors", "newaxis",
                 "TensorShape", "Tensor", "float32", "int64", "bool", "executing_eagerly", "Module", "nest",
                 "linalg", "print", "range", "device", "TensorSpec", "clip_by_global_norm"]:
        assert hasattr(tf, name), name
    assert tf.newaxis is None and tf.executing_eagerly()
    assert isinstance(tf.constant(1.0), tf.Tensor) and not isinstance(tf.Variable(1.0), tf.Tensor)
    assert isinstance(tf.config.list_physical_devices("GPU"), list)
    assert tf.test.is_gpu_available() in (True, False)
    assert tf.data.AUTOTUNE == tf.data.experimental.AUTOTUNE == -1
    assert issubclass(tf.errors.InvalidArgumentError, tf.errors.OpError)


def test_keras_and_its_aliases_load_lazily():
    keras = pytest.importorskip("course.tf.keras")
    assert tf.keras is keras
    for alias, sub in [("optimizers", "optimizers"), ("losses", "losses"), ("metrics", "metrics")]:
        assert getattr(tf, alias) is getattr(keras, sub)


def test_unsupported_names_raise_one_clear_error():
    with pytest.raises(NotImplementedError, match=r"tf\.reduce_men .*Nearest supported: tf\.reduce_mean"):
        tf.reduce_men
    with pytest.raises(AttributeError):
        tf.nn.conv3d
    with pytest.raises(UnsupportedError, match=r"course run --v1"):
        tf.Session
    with pytest.raises(UnsupportedError, match=r"tf\.random\.normal"):
        tf.random_normal
    assert not hasattr(tf, "placeholder") and getattr(tf.math, "bincount", 5) == 5
    with pytest.raises(AttributeError) as info:
        tf.__wrapped__
    assert not isinstance(info.value, NotImplementedError)        # dunder probes stay plain
    assert "reduce_mean" in dir(tf) and "keras" in dir(tf)


def test_module_getattr_for_other_facade_modules():
    getattr_, dir_ = module_getattr("course.tf.keras.layers", {"Dense": 1, "Dropout": 2},
                                    lazy={"experimental": "course.tf.nonexistent_module"},
                                    hints={"LSTM": "recurrent layers are not supported."})
    with pytest.raises(UnsupportedError, match=r"tf\.keras\.layers\.Dens .*tf\.keras\.layers\.Dense"):
        getattr_("Dens")
    with pytest.raises(UnsupportedError, match="recurrent layers"):
        getattr_("LSTM")
    with pytest.raises(UnsupportedError, match="missing"):
        getattr_("experimental")
    assert dir_() == ["Dense", "Dropout", "experimental"]


def test_seed001_runs_with_its_import_rewritten_and_the_loss_decreases():
    pytest.importorskip("course.tf.keras")
    source = SEED001
    if (SEEDS / "seed001_two_layer_sgd.py").exists():
        source = (SEEDS / "seed001_two_layer_sgd.py").read_text(encoding="utf-8")
    source = source.replace("import tensorflow as tf", "import course.tf as tf")
    np.random.seed(0)
    tf.random.set_seed(0)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(source, "seed001", "exec"), {"__name__": "__main__"})
    losses = [float(v) for v in re.findall(r"Loss: ([0-9.eE+-]+)", out.getvalue())]
    assert len(losses) == 100
    assert losses[-1] < losses[0]
    assert all(b <= a + 1e-6 for a, b in zip(losses, losses[1:]))       # full-batch SGD on a smooth loss


def test_device_scope_and_visible_devices():
    with tf.device("/CPU:0"):
        assert tf.constant(1.0).device.type == "cpu"
    with tf.device("/GPU:0"):                                         # soft placement without a GPU
        tf.constant(1.0)
    tf.config.experimental.set_memory_growth(None, True)
