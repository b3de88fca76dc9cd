"""tf.compat.v1.train.Saver checkpoints cross between real TensorFlow and course, both ways.

The same TF1 graph (a weight and a bias made by get_variable and Variable, an int64 global step,
Momentum's slots) is trained a few steps on one side, saved by that side's Saver, and restored by the other side's
Saver into a fresh graph: every variable must come back exactly, under the same names and shapes that
tf.train.list_variables lists. Checkpoints that earlier versions of this Saver wrote (a JSON index and
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


def _graph(tf):
    x = tf.placeholder(tf.float32, (None, 3))
    with tf.variable_scope("layer"):
        w = tf.get_variable("w", initializer=np.linspace(-1, 1, 6, dtype=np.float32).reshape(3, 2))
    b = tf.Variable(np.zeros(2, np.float32), name="b")
    step = tf.Variable(0, dtype=tf.int64, name="global_step", trainable=False)
    loss = tf.reduce_mean(tf.square(tf.matmul(x, w) + b))
    train = tf.train.MomentumOptimizer(0.1, 0.9).minimize(loss, global_step=step)
    return x, train


def _save(tf, folder, steps=3):
    x, train = _graph(tf)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(steps):
            sess.run(train, {x: X})
        path = tf.train.Saver().save(sess, os.path.join(folder, "model.ckpt"), global_step=steps)
        values = {v.op.name: sess.run(v) for v in tf.global_variables()}
    return path, values


def _restore(tf, path):
    _graph(tf)
    with tf.Session() as sess:
        tf.train.Saver().restore(sess, path)            # no initializer: every variable from the file
        return {v.op.name: sess.run(v) for v in tf.global_variables()}


def _on(tf, fn, *args):
    if tf is tf1:
        with TF.Graph().as_default():
            return fn(tf, *args)
    ctf.reset_default_graph()
    return fn(tf, *args)


@pytest.mark.parametrize("writer", ["tensorflow", "course"])
def test_saver_checkpoints_cross_between_tensorflow_and_course(tmp_path, writer):
    w, r = (tf1, ctf) if writer == "tensorflow" else (ctf, tf1)
    path, saved = _on(w, _save, str(tmp_path))
    listed = [sorted((n, list(s)) for n, s in t.train.list_variables(str(tmp_path))) for t in (TF, ctf)]
    assert listed[1] == listed[0]
    assert {n for n, _ in listed[0]} == {"layer/w", "b", "global_step", "layer/w/Momentum", "b/Momentum"}
    restored = _on(r, _restore, path)
    assert set(restored) == set(saved)
    for name, value in saved.items():
        np.testing.assert_array_equal(restored[name], value, err_msg=name)
    assert int(restored["global_step"]) == 3


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
    _graph(ctf)
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
