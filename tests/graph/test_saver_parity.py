"""tf.compat.v1.train.Saver checkpoints cross between real TensorFlow and course, both ways.

The same TF1 graph (a weight and a bias made by get_variable and Variable, an int64 global step,
Momentum's slots, or Adam's slots and beta powers) is trained a few steps on one side, saved by that
side's Saver, and restored by the other side's Saver into a fresh graph: every variable must come back
exactly, under the same names and shapes that tf.train.list_variables lists, and the next step must be
the one the writer took. Checkpoints that earlier versions of this Saver wrote (a JSON index and
`torch.save`d data) must still restore. Then TensorFlow's "Mechanics 101" tutorial program runs with
only its imports redirected (`course run --v1`): training, evaluation by tf.nn.in_top_k, summaries and a
checkpoint that real TensorFlow reads.
"""
import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest
import torch

import course.tf.compat.v1 as ctf

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
TF = pytest.importorskip("tensorflow")
pytestmark = pytest.mark.parity
tf1 = TF.compat.v1
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

X = np.random.default_rng(1).standard_normal((8, 3)).astype(np.float32)


OPTIMIZERS = {"momentum": lambda tf: tf.train.MomentumOptimizer(0.1, 0.9),
              "adam": lambda tf: tf.train.AdamOptimizer(0.1)}
NAMES = {"momentum": {"layer/w/Momentum", "b/Momentum"},
         "adam": {"layer/w/Adam", "layer/w/Adam_1", "b/Adam", "b/Adam_1", "beta1_power", "beta2_power"}}


def _graph(tf, optimizer):
    x = tf.placeholder(tf.float32, (None, 3))
    with tf.variable_scope("layer"):
        w = tf.get_variable("w", initializer=np.linspace(-1, 1, 6, dtype=np.float32).reshape(3, 2))
    b = tf.Variable(np.zeros(2, np.float32), name="b")
    step = tf.Variable(0, dtype=tf.int64, name="global_step", trainable=False)
    loss = tf.reduce_mean(tf.square(tf.matmul(x, w) + b))
    train = OPTIMIZERS[optimizer](tf).minimize(loss, global_step=step)
    return x, train


def _values(tf, sess):
    return {v.op.name: sess.run(v) for v in tf.global_variables()}


def _save(tf, folder, optimizer, steps=3):
    """Train `steps` steps, save; then one step more: (path, values saved, values after that step)."""
    x, train = _graph(tf, optimizer)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(steps):
            sess.run(train, {x: X})
        path = tf.train.Saver().save(sess, os.path.join(folder, "model.ckpt"), global_step=steps)
        saved = _values(tf, sess)
        sess.run(train, {x: X})
        return path, saved, _values(tf, sess)


def _restore(tf, path, optimizer):
    """Restore into a fresh graph (no initializer), then one step: (values restored, values after it)."""
    x, train = _graph(tf, optimizer)
    with tf.Session() as sess:
        tf.train.Saver().restore(sess, path)
        restored = _values(tf, sess)
        sess.run(train, {x: X})
        return restored, _values(tf, sess)


def _on(tf, fn, *args):
    if tf is tf1:
        with TF.Graph().as_default():
            return fn(tf, *args)
    ctf.reset_default_graph()
    return fn(tf, *args)


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
@pytest.mark.parametrize("writer", ["tensorflow", "course"])
def test_saver_checkpoints_cross_between_tensorflow_and_course(tmp_path, writer, optimizer):
    w, r = (tf1, ctf) if writer == "tensorflow" else (ctf, tf1)
    path, saved, after_w = _on(w, _save, str(tmp_path), optimizer)
    listed = [sorted((n, list(s)) for n, s in t.train.list_variables(str(tmp_path))) for t in (TF, ctf)]
    assert listed[1] == listed[0]
    assert {n for n, _ in listed[0]} == {"layer/w", "b", "global_step"} | NAMES[optimizer]
    restored, after_r = _on(r, _restore, path, optimizer)
    assert set(restored) == set(saved)
    for name, value in saved.items():
        np.testing.assert_array_equal(restored[name], value, err_msg=name)
    assert int(restored["global_step"]) == 3
    # The step after the restore is the step the writer took next: the slots and Adam's step count came
    # back. When the two sides differ, that last step is computed by two libraries' float32 formulas (TF's
    # ApplyAdam folds the bias correction into the rate), which agree to about 1e-5 of the step (lr = 0.1);
    # a step count off by one would change Adam's step by over 10%.
    for name, value in after_w.items():
        np.testing.assert_allclose(after_r[name], value, rtol=1e-6, atol=2e-6, err_msg=name)


def test_a_checkpoint_from_an_earlier_saver_still_restores(tmp_path):
    """The format this Saver wrote before it wrote TensorFlow's: a JSON index, `torch.save`d data."""
    prefix = str(tmp_path / "old.ckpt")
    tensors = {"layer/w": torch.full((3, 2), 2.5), "b": torch.tensor([1.0, -1.0]),
               "global_step": torch.tensor(7, dtype=torch.int64)}
    torch.save({"format": "course.graph checkpoint v1", "tensors": tensors}, prefix + ".data-00000-of-00001")
    index = {"format": "course.graph checkpoint v1", "saved": 0.0,
             "variables": {k: {"shape": list(t.shape), "dtype": str(t.dtype).replace("torch.", "")}
                           for k, t in tensors.items()}}
    with open(prefix + ".index", "w", encoding="utf-8") as f:
        json.dump(index, f)
    ctf.reset_default_graph()
    _graph(ctf, "momentum")
    saver = ctf.train.Saver([v for v in ctf.global_variables() if v.op.name in tensors])
    with ctf.Session() as sess:
        saver.restore(sess, prefix)
        got = {v.op.name: sess.run(v) for v in ctf.global_variables() if v.op.name in tensors}
    for name, t in tensors.items():
        np.testing.assert_array_equal(got[name], t.numpy())


PROGRAM = os.path.join(ROOT, "tests", "programs", "tf1_fully_connected_feed.py")


def _mechanics_101(tmp_path, *args, timeout=600):
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.setdefault("OMP_NUM_THREADS", "1")
    done = subprocess.run([sys.executable, "-m", "course.cli", "run", "--v1", PROGRAM, "--log_dir",
                           str(tmp_path / "logs"), "--input_data_dir", str(tmp_path / "data"), *args],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return done.stdout


def _precisions(out):
    return [float(p) for p in re.findall(r"Precision @ 1: ([\d.]+)", out)]


def test_the_mechanics_101_tutorial_runs_unmodified_and_tensorflow_reads_its_checkpoint(tmp_path):
    out = _mechanics_101(tmp_path, "--max_steps", "300")
    assert re.findall(r"Step (\d+): loss", out) == ["0", "100", "200"]
    train, validation, test = _precisions(out)
    assert min(train, validation, test) > 0.4           # 300 steps of SGD at 0.01 from ~0.10
    assert "Num examples: 55000" in out and "Num examples: 5000 " in out and "Num examples: 10000" in out
    reader = TF.train.load_checkpoint(str(tmp_path / "logs" / "model.ckpt-299"))
    assert reader.get_variable_to_shape_map() == {
        "global_step": [], "hidden1/weights": [784, 128], "hidden1/biases": [128], "hidden2/weights": [128, 32],
        "hidden2/biases": [32], "softmax_linear/weights": [32, 10], "softmax_linear/biases": [10]}
    assert int(reader.get_tensor("global_step")) == 300
    assert any(f.startswith("events.out.tfevents") for f in os.listdir(tmp_path / "logs"))


@pytest.mark.slow
def test_the_mechanics_101_tutorial_full_accuracy(tmp_path):
    test = _precisions(_mechanics_101(tmp_path))[-1]                    # 2000 steps, as written
    print(f"Mechanics 101, 2000 steps: test precision @ 1 = {test}")
    assert test >= 0.88
