"""TensorBoard: `tf.summary` writers and `keras.callbacks.TensorBoard`, read back with TensorBoard's own
event reader and compared with what real TensorFlow / Keras write for the same calls."""
import collections
import glob
import io
import json
import os
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from PIL import Image

import course.tf as tf
from course import summary

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def read_events(folder):
    """{(subfolder, tag): [(step, plugin, value)]} from every event file under `folder`, in the order written."""
    from tensorboard import data_compat
    from tensorboard.backend.event_processing.event_file_loader import EventFileLoader
    from tensorboard.util import tensor_util

    found = collections.defaultdict(list)
    for path in glob.glob(os.path.join(folder, "**", "events.out.tfevents.*"), recursive=True):
        sub = os.path.relpath(os.path.dirname(path), folder)
        for event in EventFileLoader(path).Load():
            for value in event.summary.value:
                value = data_compat.migrate_value(value)
                plugin = value.metadata.plugin_data.plugin_name
                array = tensor_util.make_ndarray(value.tensor)
                if plugin == "histograms":
                    array = np.round(array, 6).tolist()                  # [left, right, count] per bucket
                elif plugin in ("text", "graph_keras_model"):
                    array = [v.decode() for v in np.ravel(array)]
                elif plugin == "scalars":
                    array = float(array)
                elif plugin == "images":                                  # width, height, then PNGs
                    array = [int(array[0]), int(array[1])] + [np.asarray(Image.open(io.BytesIO(png))).tolist()
                                                              for png in array[2:]]
                else:
                    array = None
                found[(sub, value.tag)].append((event.wall_time, int(event.step), plugin, array))
    return {key: [entry[1:] for entry in sorted(entries, key=lambda e: e[0])] for key, entries in found.items()}


def _shape(events):
    return {key: [(step, plugin) for step, plugin, _ in entries] for key, entries in events.items()}


def _write_the_same_summaries(tf_module, folder):
    data = np.linspace(-2.0, 3.0, 100)
    writer = tf_module.summary.create_file_writer(folder)
    with writer.as_default(step=0):
        tf_module.summary.scalar("loss", 0.75)
        tf_module.summary.scalar("loss", 0.5, step=1)
        tf_module.summary.histogram("weights", data, step=1)
        tf_module.summary.text("note", "ten epochs, batch 100", step=2)
        tf_module.summary.image("digits", np.random.default_rng(0).random((2, 28, 28, 1)), step=2)
    writer.close()


# -- tf.summary ---------------------------------------------------------------------------------
def test_summary_calls_follow_tensorflows_rules(tmp_path):
    assert tf.summary.scalar("orphan", 1.0, step=0) is False               # no default writer: nothing, False
    writer = tf.summary.create_file_writer(str(tmp_path))
    with writer.as_default():
        with pytest.raises(ValueError, match="no step set"):
            tf.summary.scalar("loss", 1.0)
        tf.summary.experimental.set_step(7)
        try:
            assert tf.summary.scalar("loss", 0.25) is True                 # the step set above
        finally:
            tf.summary.experimental.set_step(None)
        with tf.summary.record_if(False):
            assert tf.summary.scalar("skipped", 1.0, step=1) is False
        with tf.summary.record_if(lambda: True):
            assert tf.summary.scalar("kept", tf.constant(2.5), step=tf.constant(3)) is True
        with pytest.raises(ValueError, match=r"\(k, height, width, channels\)"):
            tf.summary.image("flat", np.zeros((28, 28)), step=0)
    _write_the_same_summaries(tf, str(tmp_path / "all"))
    writer.close()
    with pytest.raises(RuntimeError, match="closed"):
        writer.write_scalar("late", 1.0, 0)

    events = read_events(str(tmp_path))
    assert events[(".", "loss")] == [(7, "scalars", 0.25)]
    assert events[(".", "kept")] == [(3, "scalars", 2.5)]
    assert (".", "skipped") not in events and (".", "orphan") not in events
    assert events[("all", "loss")] == [(0, "scalars", 0.75), (1, "scalars", 0.5)]
    [(step, plugin, buckets)] = events[("all", "weights")]
    assert (step, plugin, len(buckets), sum(b[2] for b in buckets)) == (1, "histograms", 30, 100)
    assert events[("all", "note")] == [(2, "text", ["ten epochs, batch 100"])]
    [(step, plugin, image)] = events[("all", "digits")]
    assert (step, plugin, image[:2], np.shape(image[2:])) == (2, "images", [28, 28], (2, 28, 28))


@pytest.mark.parametrize("bad, error", [({"update_freq": "sometimes"}, ValueError),
                                        ({"update_freq": 0}, ValueError),
                                        ({"profile_batch": 3}, NotImplementedError),
                                        ({"embeddings_freq": 1}, NotImplementedError)])
def test_tensorboard_callback_rejects_what_it_cannot_do(bad, error):
    with pytest.raises(error, match="TensorBoard"):
        tf.keras.callbacks.TensorBoard("logs", **bad)


def test_missing_tensorboard_package_says_how_to_install(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "tensorboard.summary.writer.record_writer", None)   # as if not installed
    with pytest.raises(ImportError, match="pip install tensorboard"):
        summary.create_file_writer(str(tmp_path))
    with pytest.raises(ImportError, match="pip install tensorboard"):
        summary.require_tensorboard()                                 # what `course train --tensorboard` checks


def test_course_run_logs_without_loading_tensorflow(tmp_path):
    """Under the import hook `tensorflow` is course.tf: TensorBoard's writer must not try to use it."""
    prog = tmp_path / "log.py"
    prog.write_text(textwrap.dedent('''
        import sys
        import tensorflow as tf
        writer = tf.summary.create_file_writer("logs")
        with writer.as_default():
            for step in range(3):
                tf.summary.scalar("loss", 1.0 / (step + 1), step=step)
        writer.flush()
        print("REAL TF LOADED", any(name.startswith("tensorflow.python") for name in sys.modules))
    '''), encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    done = subprocess.run([sys.executable, "-m", "course.cli", "run", str(prog)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "REAL TF LOADED False" in done.stdout
    assert [(s, v) for s, _, v in read_events(str(tmp_path / "logs"))[(".", "loss")]] == \
        [(0, 1.0), (1, 0.5), (2, pytest.approx(1 / 3))]


# -- against real TensorFlow / Keras --------------------------------------------------------------
def test_summaries_match_tensorflows(tmp_path):
    real_tf = pytest.importorskip("tensorflow")
    _write_the_same_summaries(real_tf, str(tmp_path / "tf"))
    _write_the_same_summaries(tf, str(tmp_path / "ours"))
    theirs, ours = read_events(str(tmp_path / "tf")), read_events(str(tmp_path / "ours"))
    assert _shape(ours) == _shape(theirs)
    for key in [(".", "loss"), (".", "weights"), (".", "note"), (".", "digits")]:
        assert ours[key] == theirs[key], key                             # images: the same pixels


def _mlp(keras):
    return keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, activation="relu", name="hidden"),
                             keras.layers.Dense(2, activation="softmax", name="out")], name="mlp")


def _fit_with_tensorboard(keras, weights, log_dir, **tensorboard):
    x = np.random.default_rng(0).random((256, 8)).astype("float32")
    y = (x.sum(1) > 4).astype("int64")
    model = _mlp(keras)
    if weights is not None:
        model.set_weights(weights)
    model.compile(keras.optimizers.SGD(0.1), "sparse_categorical_crossentropy", metrics=["accuracy"])
    board = keras.callbacks.TensorBoard(log_dir, histogram_freq=1, **tensorboard)
    model.fit(x, y, epochs=2, batch_size=32, validation_split=0.25, shuffle=False, callbacks=[board], verbose=0)
    model.evaluate(x, y, callbacks=[board], verbose=0)


@pytest.mark.parametrize("update_freq", ["epoch", 3])
def test_keras_callback_writes_what_keras_writes(tmp_path, update_freq):
    """Same folders, tags, steps and plugins as Keras; the same values from the same initial weights.
    With update_freq=N Keras drops epoch summaries whose epoch does not end on a multiple of N (see
    the next test), so there only the batch_ tags are compared."""
    keras = pytest.importorskip("keras")
    keras.utils.set_random_seed(0)                                    # the same draw on every run
    start = [w.numpy() for w in _mlp(keras).weights]                   # both start from Keras' draw
    images = update_freq == "epoch"                                    # weights drawn as images too
    _fit_with_tensorboard(keras, start, str(tmp_path / "keras"), update_freq=update_freq, write_images=images)
    _fit_with_tensorboard(tf.keras, start, str(tmp_path / "ours"), update_freq=update_freq, write_images=images)

    theirs, ours = read_events(str(tmp_path / "keras")), read_events(str(tmp_path / "ours"))
    if update_freq != "epoch":
        theirs, ours = ({key: v for key, v in events.items() if key[1].startswith("batch_")}
                        for events in (theirs, ours))
        assert len(theirs) == 2                                           # batch_loss, batch_accuracy
    else:
        assert sum(key[1].endswith("/image") for key in theirs) == 4     # 2 kernels, 2 biases
    assert _shape(ours) == _shape(theirs)
    for key, entries in theirs.items():
        for (step, plugin, want), (_, _, got) in zip(entries, ours[key]):
            if plugin == "scalars":
                assert got == pytest.approx(want, rel=1e-4, abs=1e-6), (key, step)
            elif plugin == "histograms":
                assert np.allclose(got, want, rtol=1e-4, atol=1e-5), (key, step)   # the same weights, bucketed
            elif plugin == "images":                                      # [width, height, pixels...]
                assert got[:2] == want[:2], key
                assert np.abs(np.array(got[2:], float) - np.array(want[2:], float)).max() <= 1, key
            elif plugin == "graph_keras_model":
                layers = [[layer["class_name"] for layer in json.loads(text[0])["config"]["layers"]]
                          for text in (want, got)]
                assert layers[0] == layers[1]


@pytest.mark.parametrize("functional", [False, True])
def test_model_config_draws_in_tensorboards_graphs_tab(functional):
    """TensorBoard turns the `keras` summary into its conceptual graph with keras_model_to_graph_def."""
    from tensorboard.plugins.graph.keras_util import keras_model_to_graph_def
    keras = tf.keras
    if functional:
        inputs = keras.Input((8,), name="pixels")
        hidden = keras.layers.Dense(16, activation="relu", name="hidden")(inputs)
        model = keras.Model(inputs, keras.layers.Dense(2, name="out")(hidden), name="mlp")
    else:
        model = _mlp(keras)
    graph = keras_model_to_graph_def(json.loads(model.to_json()))
    nodes = {n.name: (n.attr["keras_class"].s.decode(), list(n.input)) for n in graph.node}
    assert nodes["mlp/hidden"][0] == "Dense" and nodes["mlp/out"] == ("Dense", ["mlp/hidden"])
    assert nodes["mlp/hidden"][1] == [next(name for name, (cls, _) in nodes.items() if cls == "InputLayer")]


def test_every_epoch_is_logged_whatever_update_freq(tmp_path):
    """Keras skips the epoch summaries of an epoch whose last batch is not a multiple of update_freq
    (tensorflow/tensorboard#4975); here every epoch is logged."""
    _fit_with_tensorboard(tf.keras, None, str(tmp_path), update_freq=4)          # 6 batches an epoch
    events = read_events(str(tmp_path))
    assert [step for step, _, _ in events[("train", "epoch_loss")]] == [0, 1]
    assert [step for step, _, _ in events[("train", "batch_loss")]] == [4, 8, 12]
    assert [step for step, _, _ in events[("validation", "evaluation_loss_vs_iterations")]] == [6, 12, 12]


def test_read_gives_what_tensorboards_reader_gives_for_keras_logs(tmp_path):
    """course.summary.read on files that real Keras wrote, against TensorBoard's own reader."""
    keras = pytest.importorskip("keras")
    _fit_with_tensorboard(keras, None, str(tmp_path), update_freq="epoch")
    reference = read_events(str(tmp_path))
    ours = collections.defaultdict(list)
    for r in summary.read(str(tmp_path)):
        value = np.round(r.value, 6).tolist() if r.plugin == "histograms" else r.value
        ours[(r.run, r.tag)].append((r.step, r.plugin, [value] if r.plugin == "graph_keras_model" else value))
    assert dict(ours) == reference


def test_subclassed_model_logs_without_a_graph(tmp_path):
    """Keras writes the `keras` config only for Sequential and functional models; the rest is the same."""
    class TwoLayers(tf.keras.Model):
        def __init__(self):
            super().__init__()
            self.hidden, self.out = tf.keras.layers.Dense(8, activation="relu"), tf.keras.layers.Dense(2)

        def call(self, x):
            return self.out(self.hidden(x))

    model = TwoLayers()
    model.compile("adam", tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    x = np.random.default_rng(1).random((64, 4)).astype("float32")
    model.fit(x, (x.sum(1) > 2).astype("int64"), epochs=1, verbose=0,
              callbacks=[tf.keras.callbacks.TensorBoard(str(tmp_path), histogram_freq=1)])
    tags = {(r.run, r.tag) for r in summary.read(str(tmp_path))}
    assert ("train", "epoch_loss") in tags and ("train", "keras") not in tags
    assert sum(tag.endswith("/histogram") for _, tag in tags) == 4                # 2 kernels, 2 biases


# -- TF1: FileWriter, the graph and hand-built Summary protobufs ----------------------------------------
def _small_graph(v1):
    graph = v1.Graph()
    with graph.as_default():
        x = v1.placeholder(v1.float32, shape=(None, 2), name="x")
        w = v1.constant([[0.5], [-1.0]], name="w")
        b = v1.constant(0.25, name="b")
        z = v1.add(v1.matmul(x, w), b, name="z")
        v1.nn.relu(z, name="hidden") * v1.sigmoid(z, name="gate")
    return graph


def _graph_from_events(folder):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    events = EventAccumulator(folder)
    events.Reload()
    return events.Graph()


def test_file_writer_graph_is_tensorflows_graph_def(tmp_path):
    """The same TF1 program gives the same GraphDef nodes (names, ops, inputs, dtypes, shapes,
    constant values) as real TensorFlow's FileWriter writes, read back by TensorBoard."""
    from tensorboard.util import tensor_util
    import course.tf.compat.v1 as v1
    real = pytest.importorskip("tensorflow").compat.v1
    for module, folder in [(v1, tmp_path / "ours"), (real, tmp_path / "tf")]:
        graph = _small_graph(module)
        with graph.as_default():                                          # TF's FileWriter refuses eager mode
            module.summary.FileWriter(str(folder), graph).close()

    def nodes(graph_def):
        out = {}
        for n in graph_def.node:
            attrs = {k: (v.type if k in ("T", "dtype") else
                         tensor_util.make_ndarray(v.tensor).tolist() if k == "value" else
                         [d.size for d in v.shape.dim] if k == "shape" else
                         [[d.size for d in s.dim] for s in v.list.shape] if k == "_output_shapes" else v.b)
                     for k, v in n.attr.items() if k in ("T", "dtype", "value", "shape", "_output_shapes",
                                                        "transpose_a", "transpose_b")}
            out[n.name] = (n.op, list(n.input), attrs)
        return out

    ours, theirs = nodes(_graph_from_events(str(tmp_path / "ours"))), nodes(_graph_from_events(str(tmp_path / "tf")))
    assert ours == theirs
    assert {"x", "w", "b", "MatMul", "z", "hidden", "gate", "mul"} == set(ours)


def test_file_writer_logs_hand_built_summaries(tmp_path):
    import course.tf.compat.v1 as v1
    graph = _small_graph(v1)
    with v1.Session(graph=graph) as sess, v1.summary.FileWriter(str(tmp_path), sess.graph) as writer:
        z = sess.run("z:0", feed_dict={"x:0": np.ones((3, 2), np.float32)})
        writer.add_summary(v1.Summary(value=[v1.Summary.Value(tag="z_mean", simple_value=float(z.mean()))]), 1)
        writer.add_summary(v1.Summary(value=[v1.Summary.Value(tag="z_mean", simple_value=0.5)]).SerializeToString(),
                           global_step=2)                                    # what a summary op would fetch
        with pytest.raises(TypeError, match="tf.Summary"):
            writer.add_summary({"z_mean": 1.0}, 3)
        assert len(sess.graph_def.node) == len(graph.get_operations())
    assert [(r.step, r.plugin, r.value) for r in summary.read(str(tmp_path))] == \
        [(1, "scalars", pytest.approx(-0.25)), (2, "scalars", 0.5)]
    with pytest.raises(NotImplementedError, match="sess.run"):
        v1.summary.text("z", graph.get_tensor_by_name("z:0"))            # scalar, histogram and image ops only


def test_tf1_program_logs_through_course_run_v1(tmp_path):
    """An unmodified TF1 program: FileWriter(logdir, sess.graph), summary ops + merge_all, tf.Summary."""
    prog = tmp_path / "tf1.py"
    prog.write_text(textwrap.dedent('''
        import tensorflow as tf
        x = tf.placeholder(tf.float32, shape=(None, 1), name="x")
        y = tf.reduce_mean(x * 2.0)
        tf.summary.scalar("y_op", y)
        merged = tf.summary.merge_all()
        with tf.Session() as sess:
            writer = tf.summary.FileWriter("logs", sess.graph)
            for step in range(2):
                summary, value = sess.run([merged, y], feed_dict={x: [[step + 1.0]]})
                writer.add_summary(summary, step)
                writer.add_summary(tf.Summary(value=[tf.Summary.Value(tag="y", simple_value=value)]), step)
            writer.close()
    '''), encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    done = subprocess.run([sys.executable, "-m", "course.cli", "run", "--v1", str(prog)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert [(r.tag, r.step, r.value) for r in summary.read(str(tmp_path / "logs"))] == \
        [("y_op", 0, 2.0), ("y", 0, 2.0), ("y_op", 1, 4.0), ("y", 1, 4.0)]
    assert {"x", "mul", "Mean"} <= {n.name for n in _graph_from_events(str(tmp_path / "logs")).node}


def _summary_graph(v1, values):
    graph = v1.Graph()
    with graph.as_default():
        x = v1.placeholder(v1.float32, shape=(None, 3), name="x")
        w = v1.constant(np.linspace(-2, 3, 6, dtype=np.float32).reshape(3, 2), name="w")
        with v1.name_scope("layer"):
            h = v1.nn.relu(v1.matmul(x, w))
            v1.summary.histogram("activations", h)
            v1.summary.histogram("inputs", x)
        v1.summary.scalar("loss", v1.reduce_mean(h))
        merged = v1.summary.merge_all()
        with v1.Session(graph=graph) as sess:
            return sess.run(merged, feed_dict={x: values})


@pytest.mark.parametrize("seed", [0, 1])
def test_tf1_summary_ops_give_tensorflows_bytes(seed):
    """scalar/histogram/merge_all in a graph: the fetched bytes parse to the same Summary as TF's
    (tags with the name scope, simple_value, and the histogram bucket for bucket)."""
    import course.tf.compat.v1 as v1
    real = pytest.importorskip("tensorflow").compat.v1
    from tensorboard.compat.proto.summary_pb2 import Summary
    values = np.random.default_rng(seed).normal(0, 10 ** seed, size=(64, 3))
    # Multiples of 1/64 below 2**10: every product with w's small integers and every 3-term sum of the
    # matmul is exact in float32, so both libraries' BLAS give the same activations bit for bit,
    # whatever their summation order or CPU. (Unrounded inputs differed in the last bits on AMD hosts.)
    values = (np.round(values * 64) / 64).astype(np.float32)
    values[0] = [0.0, 1e-13, -1e-13]                  # the buckets around zero (relu makes row 0 exact zeros)
    with real.Graph().as_default():
        theirs = _summary_graph(real, values)
    ours = _summary_graph(v1, values)
    assert isinstance(ours, bytes)
    ours, theirs = Summary.FromString(ours).value, Summary.FromString(theirs).value
    assert [v.tag for v in ours] == [v.tag for v in theirs] == ["layer/activations", "layer/inputs", "loss"]
    for got, want in zip(ours[:2], theirs[:2]):
        assert list(got.histo.bucket_limit) == list(want.histo.bucket_limit)         # bit for bit
        assert list(got.histo.bucket) == list(want.histo.bucket)
        assert (got.histo.min, got.histo.max, got.histo.num) == (want.histo.min, want.histo.max, want.histo.num)
        # Sums of exact float32 values accumulated in float64: only the order of 192 additions differs,
        # a relative error of at most 192 * 2**-53 (about 2e-14).
        assert got.histo.sum_squares == pytest.approx(want.histo.sum_squares, rel=1e-12)
        assert got.histo.sum == pytest.approx(want.histo.sum, rel=1e-12)
    assert ours[2].simple_value == pytest.approx(theirs[2].simple_value, rel=1e-6)     # float32 reduce_mean


def test_tf1_summary_ops_errors_and_the_file_writer(tmp_path):
    import course.tf.compat.v1 as v1
    graph = v1.Graph()
    with graph.as_default():
        assert v1.summary.merge_all() is None                              # nothing to merge, as TF
        x = v1.placeholder(v1.float32, shape=(2,), name="x")
        with pytest.raises(ValueError, match="needs a scalar"):
            v1.summary.scalar("x", x)
        a, b = v1.summary.scalar("m", v1.reduce_mean(x)), v1.summary.scalar("m", v1.reduce_max(x))
        assert graph.get_operation_by_name("m_1") is b.op                 # the op is renamed, its tag too
        merged = v1.summary.merge([a, b])
        with v1.Session(graph=graph) as sess, v1.summary.FileWriter(str(tmp_path)) as writer:
            for step in range(2):
                writer.add_summary(sess.run(merged, feed_dict={x: [step, 2.0 * step]}), step)
    assert [(r.tag, r.step, r.value) for r in summary.read(str(tmp_path))] == \
        [("m", 0, 0.0), ("m_1", 0, 0.0), ("m", 1, 1.5), ("m_1", 1, 2.0)]


def _image_summary(v1, images, max_outputs):
    graph = v1.Graph()
    with graph.as_default():
        x = v1.placeholder(v1.uint8 if images.dtype == np.uint8 else v1.float32, shape=images.shape, name="x")
        with v1.name_scope("input_reshape"):
            out = v1.summary.image("input", x, max_outputs)
        with v1.Session(graph=graph) as sess:
            return sess.run(out, feed_dict={x: images})


def _decoded(serialized):
    from tensorboard.compat.proto.summary_pb2 import Summary
    return [(v.tag, v.image.height, v.image.width, v.image.colorspace,
             np.asarray(Image.open(io.BytesIO(v.image.encoded_image_string))).tolist())
            for v in Summary.FromString(serialized).value]


@pytest.mark.parametrize("kind, max_outputs", [("positive", 3), ("signed", 3), ("nan", 1), ("uint8", 2),
                                               ("rgb", 2), ("blank", 1)])
def test_tf1_image_summary_gives_tensorflows_pixels(kind, max_outputs):
    """Tags, sizes and every pixel as TensorFlow's ImageSummary kernel makes them (the PNG bytes may
    differ: another encoder)."""
    import course.tf.compat.v1 as v1
    real = pytest.importorskip("tensorflow").compat.v1
    rng = np.random.default_rng(3)
    images = {"positive": rng.random((4, 6, 5, 1)) * 3, "signed": rng.normal(0, 2, (4, 6, 5, 1)),
              "nan": np.where(rng.random((2, 6, 5, 1)) < 0.1, np.nan, rng.normal(0, 1, (2, 6, 5, 1))),
              "uint8": rng.integers(0, 256, (3, 6, 5, 1)), "rgb": rng.normal(1, 1, (2, 6, 5, 3)),
              "blank": np.zeros((1, 6, 5, 1))}[kind]
    images = images.astype(np.uint8 if kind == "uint8" else np.float32)
    with real.Graph().as_default():
        theirs = _decoded(_image_summary(real, images, max_outputs))
    ours = _decoded(_image_summary(v1, images, max_outputs))
    assert [t[:4] for t in ours] == [t[:4] for t in theirs]
    assert len(ours) == min(max_outputs, len(images))
    for got, want in zip(ours, theirs):
        assert got[4] == want[4], got[0]


def _tutorial_tags(v1):
    """Tags of the summary ops the TF1 TensorBoard tutorial builds (scopes, and names already in use)."""
    with v1.Graph().as_default() as graph:
        x = v1.placeholder(v1.float32, [None, 4], name="x-input")
        with v1.name_scope("layer1"):
            with v1.name_scope("weights"):
                w = v1.Variable(v1.truncated_normal([4, 3], stddev=0.1))
                with v1.name_scope("summaries"):
                    mean = v1.reduce_mean(w)
                    v1.summary.scalar("mean", mean)
                    v1.summary.scalar("max", v1.reduce_max(w))              # after the op "Max"
                    v1.summary.histogram("histogram", w)
        with v1.name_scope("accuracy"):
            accuracy = v1.reduce_mean(v1.matmul(x, w))
        v1.summary.scalar("accuracy", accuracy)                               # the scope name is taken
        v1.summary.scalar("accuracy", accuracy, family="train")
        merged = v1.summary.merge_all()
        with v1.Session(graph=graph) as sess:
            sess.run(v1.global_variables_initializer())
            data = sess.run(merged, feed_dict={x: np.ones((2, 4), np.float32)})
    from tensorboard.compat.proto.summary_pb2 import Summary
    return [v.tag for v in Summary.FromString(data).value]


def test_tf1_summary_tags_are_tensorflows():
    import course.tf.compat.v1 as v1
    real = pytest.importorskip("tensorflow").compat.v1
    with real.Graph().as_default():
        theirs = _tutorial_tags(real)
    assert _tutorial_tags(v1) == theirs
    assert "accuracy_1" in theirs and "layer1/weights/summaries/max_1" in theirs       # as in TF's screenshots


TUTORIAL = os.path.join(ROOT, "tests", "programs", "tf1_mnist_with_summaries.py")


def _run_tutorial(tmp_path, *args, timeout=600):
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.setdefault("OMP_NUM_THREADS", "1")
    done = subprocess.run([sys.executable, "-m", "course.cli", "run", "--v1", TUTORIAL, "--log_dir",
                           str(tmp_path / "logs"), "--data_dir", str(tmp_path / "data"), *args],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return done.stdout


def test_tf1_tensorboard_tutorial_runs_unmodified(tmp_path):
    """TF1's mnist_with_summaries, unmodified, through `course run --v1` (12 steps): its train and test
    logs hold the scalars, histograms and images TensorBoard's tutorial shows, and the graph."""
    out = _run_tutorial(tmp_path, "--max_steps", "12")
    assert "Accuracy at step 10:" in out
    records = summary.read(str(tmp_path / "logs"))
    steps = collections.defaultdict(list)
    for r in records:
        steps[(r.run, r.tag)].append(r.step)
    assert steps[("test", "accuracy_1")] == [0, 10] and steps[("train", "cross_entropy_1")] == [*range(1, 10), 11]
    assert steps[("train", "layer1/weights/summaries/histogram")] == [*range(1, 10), 11]
    assert ("train", "input_reshape/input/image/9") in steps
    graph = _graph_from_events(str(tmp_path / "logs" / "train"))
    assert {"layer1/weights/Variable", "train/Adam"} <= {n.name for n in graph.node}


@pytest.mark.slow
def test_tf1_tensorboard_tutorial_full_accuracy(tmp_path):
    out = _run_tutorial(tmp_path, timeout=3600)                               # 1000 steps, as written
    accuracy = float(re.findall(r"Accuracy at step 990: ([\d.]+)", out)[-1])
    print(f"mnist_with_summaries, step 990: {accuracy}")
    assert accuracy >= 0.96
