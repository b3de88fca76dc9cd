"""Differential tests of fit/evaluate/train_on_batch semantics against real Keras 3: the same model and
initial weights, shuffle=False, SGD, compared on every logged value and on the final weights.

Tolerances: a few dozen float32 steps of a 4->8->3 MLP; TensorFlow's and torch's kernels round
differently in the last bits, so values agree to ~1e-6 and weights to ~1e-6 (rtol 1e-4, atol 1e-5)."""
import os
import warnings

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
tf = pytest.importorskip("tensorflow")
import keras as real  # noqa: E402  (Keras 3, installed with tensorflow)

import course.tf as our_tf  # noqa: E402
from course.tf import keras as ours  # noqa: E402

pytestmark = [pytest.mark.parity,
              pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword"),
              pytest.mark.filterwarnings("ignore:Your input ran out of data")]

rng = np.random.RandomState(0)
X = rng.rand(50, 4).astype(np.float32)
Y = rng.randint(0, 3, 50)
SW = rng.rand(50).astype(np.float32)
INIT = None


def _model(lib, **compile_args):
    global INIT
    L = lib.layers
    model = lib.Sequential([lib.Input((4,)), L.Dense(8, activation="relu"), L.Dense(3, activation="softmax")])
    if INIT is None:
        INIT = model.get_weights()
    model.set_weights(INIT)
    compile_args.setdefault("metrics", ["accuracy"])
    model.compile(optimizer=lib.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy", **compile_args)
    return model


def _close(a, b):
    np.testing.assert_allclose(np.asarray(b, np.float64), np.asarray(a, np.float64), rtol=1e-4, atol=1e-5)


def _same_fit(compile_args=None, **fit_args):
    runs = {}
    for lib in (real, ours):
        model = _model(lib, **(compile_args or {}))
        history = model.fit(X, Y, verbose=0, shuffle=False, **fit_args)
        runs[lib] = (history.history, model.get_weights(), model.evaluate(X, Y, verbose=0, batch_size=7))
    (h_real, w_real, e_real), (h_ours, w_ours, e_ours) = runs[real], runs[ours]
    assert list(h_ours) == list(h_real)
    for key in h_real:
        _close(h_real[key], h_ours[key])
    for a, b in zip(w_real, w_ours):
        _close(a, b)
    _close(e_real, e_ours)
    return h_real


@pytest.mark.parametrize("fit_args", [
    dict(class_weight={0: 1.0, 1: 3.0, 2: 0.5}),
    dict(class_weight={1: 3.0}),                                  # classes not named weigh 1
    dict(sample_weight=SW),
    dict(sample_weight=SW, validation_data=(X[:10], Y[:10], SW[:10])),
], ids=["class_weight", "partial_class_weight", "sample_weight", "weighted_validation"])
def test_compiled_metrics_ignore_sample_and_class_weights_as_keras(fit_args):
    """Keras 3: the loss uses sample/class weights, compile(metrics=...) does not (weighted_metrics do).
    Ours weighted the metrics too: with class_weight={0: 1, 1: 3, 2: 0.5}, accuracy 0.587 and 0.64 per
    epoch for Keras' 0.32 and 0.32."""
    _same_fit(epochs=2, batch_size=8, **fit_args)


def test_weighted_metrics_and_loss_weights_as_keras():
    """compile(weighted_metrics=[...]) (ours refused it): logged beside the unweighted ones, a shared name
    becoming 'weighted_accuracy'; loss_weights=[0.5] scales the loss; evaluate()'s list follows Keras'
    order (the weighted accuracy's own name repeats the unweighted value, then the leftover keys)."""
    history = _same_fit(dict(metrics=["accuracy"], weighted_metrics=["accuracy", "sparse_categorical_crossentropy"],
                             loss_weights=[0.5]),
                        epochs=2, batch_size=8, sample_weight=SW, validation_data=(X, Y, SW))
    assert "weighted_accuracy" in history and "val_weighted_accuracy" in history


def test_class_weight_with_sample_weight_is_refused_as_keras():
    for lib in (real, ours):
        with pytest.raises(ValueError, match="class_weight` and `sample_weight"):
            _model(lib).fit(X, Y, verbose=0, sample_weight=SW, class_weight={0: 2.0})


def test_train_on_batch_reports_this_batch_and_takes_class_weights_as_keras():
    """Keras 3 resets the metrics in every train_on_batch/test_on_batch call, so each returns that batch's
    own loss and accuracy (ours returned running means over all calls), and applies class_weight (ours
    ignored it)."""
    results = {}
    for lib in (real, ours):
        model = _model(lib)
        results[lib] = [model.train_on_batch(X[:10], Y[:10]), model.train_on_batch(X[10:], Y[10:]),
                        model.train_on_batch(X[:10], Y[:10], class_weight={0: 5.0}),
                        list(model.train_on_batch(X[:10], Y[:10], sample_weight=SW[:10], return_dict=True).items()),
                        model.test_on_batch(X, Y, sample_weight=SW), model.get_weights()]
    r, o = results[real], results[ours]
    for a, b in zip(r[:3] + r[4:5], o[:3] + o[4:5]):
        _close(a, b)
    assert [k for k, _ in o[3]] == [k for k, _ in r[3]] == ["accuracy", "loss"]
    _close([v for _, v in r[3]], [v for _, v in o[3]])
    for a, b in zip(r[5], o[5]):
        _close(a, b)


def _batch_losses(lib, data_module, kind):
    model = _model(lib, metrics=None)
    losses = []
    record = lib.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: losses.append(float(logs["loss"])))
    if kind == "arrays":                 # 7 batches of 8; 2 per epoch: epochs take 1-2, 3-4, 5-6, 7 (ran out), 1-2
        args = dict(x=X, y=Y, batch_size=8, shuffle=False, steps_per_epoch=2, epochs=5)
    elif kind == "dataset":
        args = dict(x=data_module.Dataset.from_tensor_slices((X, Y)).batch(8), steps_per_epoch=2, epochs=5)
    else:                                # the tutorials' pattern: an endless dataset cut into epochs
        args = dict(x=data_module.Dataset.from_tensor_slices((X, Y)).batch(8).repeat(), steps_per_epoch=3,
                    epochs=4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        history = model.fit(verbose=0, callbacks=[record], **args)
    return history.history["loss"], losses, model.get_weights()


@pytest.mark.parametrize("kind", ["arrays", "dataset", "repeated_dataset"])
def test_steps_per_epoch_goes_on_through_the_data_as_keras(kind):
    """With steps_per_epoch, Keras 3 keeps one iterator across epochs: each epoch takes the next batches,
    and a pass that runs out ends its epoch early (with a warning) before a new pass starts. Ours started
    every epoch from the first batch, so a .repeat()ed dataset or arrays never reached most of the data."""
    (e_real, b_real, w_real), (e_ours, b_ours, w_ours) = (_batch_losses(real, tf.data, kind),
                                                          _batch_losses(ours, our_tf.data, kind))
    assert len(b_ours) == len(b_real)
    _close(b_real, b_ours)
    _close(e_real, e_ours)
    for a, b in zip(w_real, w_ours):
        _close(a, b)
