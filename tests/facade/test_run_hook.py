"""The import hook: unmodified TensorFlow programs run on course.tf (`course run`, install_import_hook)."""
import os
import subprocess
import sys
import textwrap

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

PROGRAM = textwrap.dedent('''
    import sys
    import numpy as np
    import tensorflow as tf
    import tensorflow.math
    from tensorflow.nn import relu
    from tensorflow import keras

    print("NAME", __name__)
    print("ARGV", sys.argv[1:])
    print("MODULE", tf.__name__, tensorflow.math.__name__)
    print("RELU", relu(tf.constant([[1.0, -2.0]])).numpy().tolist())

    np.random.seed(0)
    tf.random.set_seed(0)
    w = tf.Variable(tf.random.normal([3, 1]))
    x = np.random.randn(64, 3).astype("float32")    # centred inputs: a well-conditioned least-squares fit
    y = x @ np.array([[1.0], [-2.0], [0.5]], np.float32)
    ds = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(64).batch(16).repeat(20)
    opt = keras.optimizers.SGD(learning_rate=0.1)
    losses = []
    for xb, yb in ds:
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(tf.matmul(xb, w) - yb))
        opt.apply_gradients(zip(tape.gradient(loss, [w]), [w]))
        losses.append(float(loss))
    print("LOSS", losses[0], losses[-1])
    sys.exit(int(sys.argv[-1]) if sys.argv[-1].isdigit() else 0)
''')


def _run(args, cwd, **kwargs):
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""), TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300,
                          **kwargs)


def test_course_run_executes_an_unmodified_program(tmp_path):
    pytest.importorskip("course.tf.keras")
    prog = tmp_path / "train.py"
    prog.write_text(PROGRAM, encoding="utf-8")
    result = _run(["-m", "course.cli", "run", str(prog), "--flag", "value", "3"], cwd=tmp_path)
    out = result.stdout
    assert result.returncode == 3, result.stderr[-2000:]               # the program's exit status
    assert "NAME __main__" in out
    assert "ARGV ['--flag', 'value', '3']" in out
    assert "MODULE course.tf course.tf.math" in out
    assert "RELU [[1.0, 0.0]]" in out
    first, last = (float(v) for v in out.split("LOSS")[1].split())
    assert last < first / 10


def test_notebook_api_installs_and_removes_the_hook():
    """In process: whatever `tensorflow` was before (absent, or the real one) comes back afterwards."""
    import course.tf
    before = sys.modules.get("tensorflow")
    course.tf.install_import_hook()
    try:
        import tensorflow as tf
        from tensorflow.random import normal
        assert tf is course.tf and normal is course.tf.random.normal
        assert sys.modules["tensorflow.random"] is course.tf.random
        with pytest.raises(ModuleNotFoundError, match="course.tf"):
            import tensorflow.no_such_module  # noqa: F401
    finally:
        course.tf.uninstall_import_hook()
    assert sys.modules.get("tensorflow") is before


def test_v1_flag_resolves_tensorflow_to_compat_v1(tmp_path):
    pytest.importorskip("course.tf.compat.v1")
    prog = tmp_path / "graph.py"
    prog.write_text("import tensorflow as tf\nimport tensorflow.compat.v1 as v1\n"
                    "print('MODULE', tf.__name__, v1.__name__)\n", encoding="utf-8")
    result = _run(["-m", "course.cli", "run", str(prog), "--v1"], cwd=tmp_path)   # --v1 after PROGRAM
    assert result.returncode == 0, result.stderr[-2000:]
    assert "MODULE course.tf.compat.v1 course.tf.compat.v1" in result.stdout


def test_command_line_forms_and_a_missing_program(tmp_path, capsys):
    import course.cli
    parser = course.cli.build_parser(["run"])
    args = parser.parse_args(["run", "--v1", "prog.py", "-x", "1"])
    assert args.v1 and args.program == "prog.py" and args.args == ["-x", "1"]
    args = parser.parse_args(["run", "prog.py", "--v1", "-x"])
    assert not args.v1 and args.args == ["--v1", "-x"]          # _cmd_run reads a leading --v1 as the flag
    assert course.cli.main(["run", str(tmp_path / "nope.py")]) == 2
    assert "no such program" in capsys.readouterr().err


EXPERT = textwrap.dedent('''
    import tensorflow as tf
    from tensorflow.keras.layers import Dense, Flatten, Conv2D
    from tensorflow.keras import Model

    (x_train, y_train), (x_test, y_test) = tf.keras.datasets.mnist.load_data()
    x_train, x_test = x_train / 255.0, x_test / 255.0
    x_train = x_train[..., tf.newaxis].astype("float32")[:3000]
    x_test = x_test[..., tf.newaxis].astype("float32")[:1000]
    train_ds = tf.data.Dataset.from_tensor_slices((x_train, y_train[:3000])).shuffle(10000).batch(32)
    test_ds = tf.data.Dataset.from_tensor_slices((x_test, y_test[:1000])).batch(32)

    class MyModel(Model):
        def __init__(self):
            super().__init__()
            self.conv1 = Conv2D(32, 3, activation="relu")
            self.flatten = Flatten()
            self.d1 = Dense(128, activation="relu")
            self.d2 = Dense(10)

        def call(self, x):
            return self.d2(self.d1(self.flatten(self.conv1(x))))

    model = MyModel()
    loss_object = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    optimizer = tf.keras.optimizers.Adam()
    test_accuracy = tf.keras.metrics.SparseCategoricalAccuracy(name="test_accuracy")

    @tf.function
    def train_step(images, labels):
        with tf.GradientTape() as tape:
            loss = loss_object(labels, model(images, training=True))
        gradients = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(gradients, model.trainable_variables))

    for epoch in range(2):
        test_accuracy.reset_state()
        for images, labels in train_ds:
            train_step(images, labels)
        for images, labels in test_ds:
            test_accuracy(labels, model(images, training=False))
        print(f"Epoch {epoch + 1}, Test Accuracy: {test_accuracy.result() * 100:0.2f}")
''')


@pytest.mark.slow
def test_tf2_expert_quickstart_runs_unmodified(tmp_path):
    """The TF2 'for experts' quickstart (subclassed Model, tf.function, GradientTape, tf.data), on 3000 images."""
    pytest.importorskip("course.tf.keras")
    prog = tmp_path / "expert.py"
    prog.write_text(EXPERT, encoding="utf-8")
    result = _run(["-m", "course.cli", "run", str(prog)], cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    accuracy = float(result.stdout.strip().splitlines()[-1].rsplit(" ", 1)[1])
    assert accuracy > 85.0


def test_keras3_training_guide_runs_unmodified(tmp_path):
    """`import keras` + `from keras import layers, ops` code, unmodified, through `course run`."""
    prog = os.path.join(ROOT, "tests", "programs", "keras3_training_guide.py")
    result = _run(["-m", "course.cli", "run", prog], cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().endswith("DONE") and "categorical_true_positives" in result.stdout


def test_a_tf1_program_without_v1_gets_the_hint_alone(tmp_path):
    prog = tmp_path / "tf1.py"
    prog.write_text("import tensorflow as tf\n\nx = tf.placeholder(tf.float32, shape=(None, 2))\n", encoding="utf-8")
    result = _run(["-m", "course", "run", str(prog)], cwd=tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr, result.stderr
    assert f"{prog}, line 3 uses tf.placeholder, a TensorFlow 1 name" in result.stderr
    assert f"course run --v1 {prog}" in result.stderr           # (that the --v1 run works is tested above)


def test_a_failing_program_shows_its_own_frames_only(tmp_path):
    prog = tmp_path / "bad.py"
    prog.write_text("import tensorflow as tf\n\n\ndef f():\n    return tf.reshape(tf.constant([1.0, 2.0]), [3])\n\n\n"
                    "f()\n", encoding="utf-8")
    result = _run(["-m", "course", "run", str(prog)], cwd=tmp_path)
    assert result.returncode == 1
    frames = [line for line in result.stderr.splitlines() if line.strip().startswith("File ")]
    assert frames == [f'  File "{prog}", line 8, in <module>', f'  File "{prog}", line 5, in f'], result.stderr
    assert "runpy" not in result.stderr and "importhook" not in result.stderr and "cli.py" not in result.stderr
