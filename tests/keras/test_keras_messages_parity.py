"""ModelCheckpoint / EarlyStopping print what Keras 3.15 prints (same weights, same data, same text)."""
import contextlib
import io
import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
keras = pytest.importorskip("keras")
pytest.importorskip("tensorflow")
pytestmark = pytest.mark.parity

from course.tf import keras as ckeras  # noqa: E402


def _run(k, folder, weights=None):
    rng = np.random.default_rng(0)
    x = rng.random((64, 4)).astype("float32")
    y = (x.sum(1) > 2).astype("int32")
    m = k.Sequential([k.Input((4,)), k.layers.Dense(2, activation="softmax")])
    if weights is not None:
        m.set_weights(weights)
    m.compile(k.optimizers.SGD(0.5), "sparse_categorical_crossentropy", metrics=["accuracy"])
    cbs = [k.callbacks.ModelCheckpoint(os.path.join(folder, "e{epoch}.keras"), verbose=1),
           k.callbacks.ModelCheckpoint(os.path.join(folder, "best.keras"), monitor="val_accuracy",
                                       save_best_only=True, verbose=1),
           k.callbacks.ModelCheckpoint(os.path.join(folder, "w.weights.h5"), monitor="val_loss",
                                       save_best_only=True, save_weights_only=True, verbose=1),
           k.callbacks.EarlyStopping(monitor="val_loss", patience=1, min_delta=0.05, verbose=1,
                                     restore_best_weights=True)]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        m.fit(x, y, validation_split=0.25, epochs=6, verbose=0, shuffle=False, callbacks=cbs)
    return m, out.getvalue().replace(folder, "DIR")


def test_checkpoint_and_early_stopping_messages(tmp_path):
    keras.utils.set_random_seed(0)
    first = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
    start = [np.asarray(w) for w in first.get_weights()]          # both start from the same weights
    _, ref = _run(keras, str(tmp_path / "k"), start)
    _, got = _run(ckeras, str(tmp_path / "c"), start)
    assert "improved from None to" in ref and "finished saving model" in ref and "early stopping" in ref
    assert got == ref
