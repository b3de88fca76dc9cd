"""Differential tests: `tf.keras.optimizers.schedules.CosineDecay` (with and without warm-up) of the facade
against real Keras 3 (TensorFlow 2.21): the schedule's values, its config round trip, and an optimizer driven by it."""
import math
import os

import numpy as np
import pytest
import torch

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
tf = pytest.importorskip("tensorflow")

from course.tf import keras as ours  # noqa: E402

pytestmark = pytest.mark.parity

CASES = {
    "plain": dict(initial_learning_rate=0.1, decay_steps=20),
    "alpha": dict(initial_learning_rate=0.1, decay_steps=20, alpha=0.1),
    "warmup": dict(initial_learning_rate=0.0, decay_steps=20, warmup_target=0.1, warmup_steps=5),
    "warmup_from_nonzero": dict(initial_learning_rate=0.01, decay_steps=13, alpha=0.2, warmup_target=0.05,
                                warmup_steps=7),
    "target_no_steps": dict(initial_learning_rate=0.02, decay_steps=10, warmup_target=0.08, warmup_steps=0),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_cosine_decay_values_match_keras(case):
    kw = CASES[case]
    mine, theirs = ours.optimizers.schedules.CosineDecay(**kw), tf.keras.optimizers.schedules.CosineDecay(**kw)
    # Keras computes in float32: near the end of the decay 1 + cos(pi t) cancels, so the error is a few float32
    # ulps of the peak rate, not of the (small) result
    abs_tol = 1e-7 * max(kw["initial_learning_rate"], kw.get("warmup_target") or 0.0)
    for step in range(40):                                   # past warmup_steps + decay_steps: the cap holds
        ref = float(theirs(step))
        assert math.isclose(mine(step), ref, rel_tol=1e-6, abs_tol=abs_tol), (case, step)
        got = float(mine(torch.tensor(step)))               # an integer tensor step, as optimizer.iterations
        assert math.isclose(got, ref, rel_tol=1e-6, abs_tol=abs_tol), (case, step)


def test_cosine_decay_config_matches_keras():
    kw = CASES["warmup_from_nonzero"]
    mine = ours.optimizers.schedules.CosineDecay(**kw)
    theirs = tf.keras.optimizers.schedules.CosineDecay(**kw)
    assert mine.get_config() == theirs.get_config()
    again = type(mine).from_config(mine.get_config())
    assert [again(s) for s in range(30)] == [mine(s) for s in range(30)]


def test_bad_decay_steps_is_a_clear_error():
    with pytest.raises(ValueError, match="decay_steps must be > 0"):
        ours.optimizers.schedules.CosineDecay(0.1, 0)


def _run(tf_mod, w0, a, kw, steps=30):
    """SGD with momentum driven by the schedule on sum(a w²/2 - w): (final w, learning rate before each step)."""
    k = tf_mod.keras
    opt = k.optimizers.SGD(k.optimizers.schedules.CosineDecay(**kw), momentum=0.9)
    w = tf_mod.Variable(w0)
    lrs = []
    for _ in range(steps):
        lrs.append(float(np.asarray(opt.learning_rate)))
        g = a * np.asarray(w.numpy()) - 1.0
        opt.apply_gradients([(tf_mod.constant(g), w)])
    return np.asarray(w.numpy()), lrs


def test_sgd_with_warmup_cosine_schedule_matches_keras():
    import course.tf
    kw = CASES["warmup"]
    rng = np.random.RandomState(0)
    w0 = rng.randn(5).astype(np.float32)
    a = rng.uniform(0.5, 2.0, 5).astype(np.float32)
    w_ref, lr_ref = _run(tf, w0, a, kw)
    w_ours, lr_ours = _run(course.tf, w0, a, kw)
    np.testing.assert_allclose(lr_ours, lr_ref, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(w_ours, w_ref, rtol=1e-5, atol=1e-6)


def test_optimizer_config_with_cosine_decay_matches_keras_and_round_trips():
    kw = CASES["warmup"]
    mine = ours.optimizers.Adam(ours.optimizers.schedules.CosineDecay(**kw))
    theirs = tf.keras.optimizers.Adam(tf.keras.optimizers.schedules.CosineDecay(**kw))
    lr_mine, lr_theirs = mine.get_config()["learning_rate"], theirs.get_config()["learning_rate"]
    assert lr_mine["class_name"] == lr_theirs["class_name"] == "CosineDecay"
    assert lr_mine["config"] == lr_theirs["config"]
    again = ours.optimizers.Adam.from_config(mine.get_config())
    assert again.get_config() == mine.get_config()
