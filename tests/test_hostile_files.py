"""Hostile files and careless input: every refusal is clear, and a refused load changes nothing.

Each test builds its hostile file itself, then checks three things: the error (type and
words), that the model's weights are what they were, and that no file changed or was left
behind.
"""
import os
import zipfile

import numpy as np
import pytest

from course.tf import keras
from course.keras.saving.configs import SavingError

h5py = pytest.importorskip("h5py")

SECRET = b"TOP-SECRET-BYTES" * 8            # 128 bytes a hostile file tries to read into the weights


def small_model():
    m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3), keras.layers.Dense(2)])
    m.compile(optimizer="adam", loss="mse")
    return m


def weights_of(model):
    return [w.copy() for w in model.get_weights()]


def assert_same_weights(model, before):
    after = model.get_weights()
    assert len(after) == len(before)
    for a, b in zip(after, before):
        np.testing.assert_array_equal(a, b)


def snapshot(folder):
    """{relative path: bytes} of every file under `folder`."""
    out = {}
    for root, _, files in os.walk(folder):
        for name in files:
            path = os.path.join(root, name)
            with open(path, "rb") as f:
                out[os.path.relpath(path, folder)] = f.read()
    return out


def secret_file(tmp_path):
    path = tmp_path / "secret.bin"
    path.write_bytes(SECRET)
    return str(path)


# -- building hostile HDF5 files --------------------------------------------------------------------
KERNEL = "layers/dense/vars/0"              # Dense(3)'s kernel in a .weights.h5 file: (4, 3) float32


def replace_with_external_storage(h5_path, dataset, secret):
    """`dataset` now reads its bytes from `secret` (HDF5 external storage)."""
    with h5py.File(h5_path, "a") as f:
        shape, dtype = f[dataset].shape, f[dataset].dtype
        del f[dataset]
        f.create_dataset(dataset, shape=shape, dtype=dtype, external=[(secret, 0, h5py.h5f.UNLIMITED)])


def replace_with_external_link(h5_path, group, secret_h5):
    """`group` is now a link into another HDF5 file."""
    with h5py.File(secret_h5, "w") as s:
        s.create_dataset("stolen/0", data=np.frombuffer(SECRET[:48], dtype=np.float32).reshape(4, 3))
        s.create_dataset("stolen/1", data=np.zeros(3, np.float32))
    with h5py.File(h5_path, "a") as f:
        del f[group]
        f[group] = h5py.ExternalLink(secret_h5, "/stolen")


def replace_with_virtual(h5_path, dataset, other_h5):
    with h5py.File(other_h5, "w") as s:
        s.create_dataset("data", data=np.arange(12, dtype=np.float32).reshape(4, 3))
    with h5py.File(h5_path, "a") as f:
        del f[dataset]
        layout = h5py.VirtualLayout(shape=(4, 3), dtype=np.float32)
        layout[:] = h5py.VirtualSource(other_h5, "data", shape=(4, 3))
        f.create_virtual_dataset(dataset, layout)


def replace_with_soft_link(h5_path, dataset):
    with h5py.File(h5_path, "a") as f:
        del f[dataset]
        f[dataset] = h5py.SoftLink("/layers/dense_1/vars/0")


def rezip(keras_path, weights_h5):
    """Put `weights_h5` into the `.keras` zip at `keras_path` in place of its weights."""
    with zipfile.ZipFile(keras_path) as z:
        members = {n: z.read(n) for n in z.namelist() if n != "model.weights.h5"}
    with zipfile.ZipFile(keras_path, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
        z.write(weights_h5, "model.weights.h5")


HOSTILE = {
    "external storage": lambda p, tmp: replace_with_external_storage(p, KERNEL, secret_file(tmp)),
    "external link": lambda p, tmp: replace_with_external_link(p, "layers/dense/vars", str(tmp / "other.h5")),
    "virtual dataset": lambda p, tmp: replace_with_virtual(p, KERNEL, str(tmp / "other.h5")),
    "soft link": lambda p, tmp: replace_with_soft_link(p, KERNEL),
}
WORDS = {"external storage": "external file", "external link": "ExternalLink",
         "virtual dataset": "virtual dataset", "soft link": "SoftLink"}


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_weights_file_reading_other_files_is_refused(tmp_path, kind):
    m = small_model()
    path = str(tmp_path / "w.weights.h5")
    m.save_weights(path)
    HOSTILE[kind](path, tmp_path)
    target = small_model()
    before, files = weights_of(target), snapshot(tmp_path)
    with pytest.raises(SavingError, match=WORDS[kind]) as err:
        target.load_weights(path)
    assert "Not allowed" in str(err.value) and path in str(err.value)
    assert_same_weights(target, before)
    assert snapshot(tmp_path) == files


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_keras_file_reading_other_files_is_refused(tmp_path, kind):
    m = small_model()
    path = str(tmp_path / "m.keras")
    m.save(path)
    inner = str(tmp_path / "inner.h5")
    with zipfile.ZipFile(path) as z, open(inner, "wb") as out:
        out.write(z.read("model.weights.h5"))
    HOSTILE[kind](inner, tmp_path)
    rezip(path, inner)
    files = snapshot(tmp_path)
    with pytest.raises(SavingError, match=WORDS[kind]):
        keras.models.load_model(path)
    target = small_model()
    before = weights_of(target)
    with pytest.raises(SavingError, match=WORDS[kind]):
        target.load_weights(path)
    assert_same_weights(target, before)
    assert snapshot(tmp_path) == files


@pytest.mark.parametrize("kind", ["external storage", "external link", "virtual dataset"])
def test_legacy_h5_reading_other_files_is_refused(tmp_path, kind):
    m = small_model()
    path = str(tmp_path / "m.h5")
    m.save(path)
    with h5py.File(path, "r") as f:
        layer = f"model_weights/{m.layers[0].name}"
        kernel = f"{layer}/{np.char.decode(f[layer].attrs['weight_names'].astype(bytes))[0]}"
    _make_hostile(kind, path, kernel, tmp_path)
    files = snapshot(tmp_path)
    with pytest.raises(SavingError, match=WORDS[kind]):
        keras.models.load_model(path)
    assert snapshot(tmp_path) == files


def _make_hostile(kind, h5_path, kernel, tmp_path):
    """Apply hostile `kind` to the dataset `kernel` (or, for links, its group) of `h5_path`."""
    if kind == "external storage":
        replace_with_external_storage(h5_path, kernel, secret_file(tmp_path))
    elif kind == "external link":
        replace_with_external_link(h5_path, kernel.rsplit("/", 1)[0], str(tmp_path / "other.h5"))
    else:
        replace_with_virtual(h5_path, kernel, str(tmp_path / "other.h5"))


KERAS_WORDS = {"external storage": "external Dataset", "external link": "ExternalLink",
               "virtual dataset": "virtual Dataset"}


@pytest.mark.parity
@pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword")
@pytest.mark.parametrize("kind", sorted(KERAS_WORDS))
@pytest.mark.parametrize("fmt", [".weights.h5", ".keras", ".h5"])
def test_real_keras_refuses_files_that_read_other_files_too(tmp_path, fmt, kind):
    """Differential: a file Keras 3 refuses for reading other files, in any of its formats, we refuse too."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    pytest.importorskip("tensorflow")
    import keras as real
    theirs = real.Sequential([real.Input((4,)), real.layers.Dense(3), real.layers.Dense(2)])
    path = str(tmp_path / f"m{fmt}")
    if fmt == ".weights.h5":
        theirs.save_weights(path)
        _make_hostile(kind, path, KERNEL, tmp_path)
        load_theirs, load_ours = theirs.load_weights, small_model().load_weights
    elif fmt == ".keras":
        theirs.save(path)
        inner = str(tmp_path / "inner.h5")
        with zipfile.ZipFile(path) as z, open(inner, "wb") as out:
            out.write(z.read("model.weights.h5"))
        _make_hostile(kind, inner, KERNEL, tmp_path)
        rezip(path, inner)
        load_theirs, load_ours = real.models.load_model, keras.models.load_model
    else:
        theirs.save(path)
        with h5py.File(path, "r") as f:
            layer = f"model_weights/{theirs.layers[0].name}"
            kernel = f"{layer}/{np.char.decode(f[layer].attrs['weight_names'].astype(bytes))[0]}"
        _make_hostile(kind, path, kernel, tmp_path)
        load_theirs, load_ours = real.models.load_model, keras.models.load_model
    with pytest.raises(SavingError, match=f"Not allowed: .*{WORDS[kind]}"):
        load_ours(path)
    with pytest.raises(ValueError, match=f"Not allowed: H5 file with {KERAS_WORDS[kind]}"):
        load_theirs(path)


# -- code from strings: only where a test proves no user string reaches it ----------------------------
# (module, call) -> the test that feeds it hostile names
HOSTILE_NAMES_TEST = "tests/graph/test_graph_core.py::test_hostile_op_names_are_refused_when_the_graph_is_built"
AUTOGRAPH_TEST = "tests/graph/test_autograph.py::test_converted_function_keeps_strings_and_refuses_reserved_names"
ALLOWED_CODE_SITES = {
    ("course/graph/plan.py", "exec"): HOSTILE_NAMES_TEST,
    ("course/graph/plan.py", "compile"): HOSTILE_NAMES_TEST,
    # AutoGraph compiles a syntax tree of the function's own checked source, never text built from strings
    ("course/graph/autograph/conversion.py", "exec"): AUTOGRAPH_TEST,
    ("course/graph/autograph/conversion.py", "compile"): AUTOGRAPH_TEST,
    # Keras' Lambda format: refused unless safe_mode=False, and unreadable bytecode is a clear error
    ("course/keras/layers/lambda_layer.py", "marshal.loads"):
        "tests/keras/test_keras_saving_parity.py::test_lambda_is_refused_then_loaded_with_safe_mode_false",
}


def _code_sites(root):
    import ast
    found = []
    for folder, _, files in os.walk(root):
        for name in sorted(files):
            if not name.endswith(".py"):
                continue
            path = os.path.join(folder, name)
            rel = os.path.relpath(path, os.path.dirname(root)).replace(os.sep, "/")
            with open(path, encoding="utf-8") as f:
                tree = ast.parse(f.read(), rel)
            for node in ast.walk(tree):
                if not isinstance(node, ast.Call):
                    continue
                func = node.func
                if isinstance(func, ast.Name) and func.id in ("exec", "eval", "compile"):
                    found.append((rel, func.id, node.lineno))
                elif (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)
                      and (func.value.id, func.attr) in {("marshal", "loads"), ("builtins", "exec"),
                                                         ("builtins", "eval"), ("builtins", "compile")}):
                    found.append((rel, f"{func.value.id}.{func.attr}", node.lineno))
    return found


def test_code_is_made_from_strings_only_in_allowed_places():
    import course
    sites = _code_sites(os.path.dirname(course.__file__))
    unexpected = [s for s in sites if (s[0], s[1]) not in ALLOWED_CODE_SITES]
    assert not unexpected, ("exec/eval/compile/marshal.loads outside the allowlist (add a test feeding it hostile "
                            f"input, then list it in ALLOWED_CODE_SITES): {unexpected}")
    assert {(s[0], s[1]) for s in sites} == set(ALLOWED_CODE_SITES)    # the list stays current


def test_generated_plan_source_escapes_whatever_reaches_a_comment():
    from course.graph.plan import _comment
    for text in ["a\nb", "a\rb", "a\u2028b", "a\x0cb", "é", "a\u0085b"]:
        line = f"x = 1  # {_comment(text)}\n"
        assert len(line.splitlines()) == 1 and line.isascii()


# -- resource bombs -------------------------------------------------------------------------------------
def rewrite_member(keras_path, name, data, compress=zipfile.ZIP_STORED):
    with zipfile.ZipFile(keras_path) as z:
        members = {n: z.read(n) for n in z.namelist()}
    members[name] = data
    with zipfile.ZipFile(keras_path, "w") as z:
        for member, content in members.items():
            z.writestr(member, content, compress_type=compress if member == name else zipfile.ZIP_STORED)


def config_of(keras_path):
    import json
    with zipfile.ZipFile(keras_path) as z:
        return json.loads(z.read("config.json"))


@pytest.fixture
def private_tmp(tmp_path, monkeypatch):
    """tempfile's folder, so a test can see that no temporary is left behind."""
    import tempfile
    folder = tmp_path / "tmpdir"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def test_zip_bomb_weights_member_is_refused_before_extraction(tmp_path, private_tmp):
    path = str(tmp_path / "m.keras")
    small_model().save(path)
    rewrite_member(path, "model.weights.h5", bytes(200 << 20), compress=zipfile.ZIP_DEFLATED)   # 200 MiB of zeros
    assert os.path.getsize(path) < 1 << 20
    files = snapshot(tmp_path)
    with pytest.raises(SavingError, match=r"declares 209,715,200 bytes but stores only .*decompression bomb"):
        keras.models.load_model(path)
    target = small_model()
    before = weights_of(target)
    with pytest.raises(SavingError, match="decompression bomb"):
        target.load_weights(path)
    assert_same_weights(target, before)
    assert snapshot(tmp_path) == files and os.listdir(private_tmp) == []


def test_oversized_config_is_refused_before_it_is_read(tmp_path, private_tmp):
    from course.keras.saving.configs import MAX_CONFIG_BYTES
    path = str(tmp_path / "m.keras")
    small_model().save(path)
    rewrite_member(path, "config.json", b" " * (MAX_CONFIG_BYTES + 1), compress=zipfile.ZIP_DEFLATED)
    with pytest.raises(SavingError, match=r"config.json is 33,554,433 bytes; a model config is at most"):
        keras.models.load_model(path)
    assert os.listdir(private_tmp) == []


def test_deeply_nested_config_is_refused(tmp_path):
    path = str(tmp_path / "m.keras")
    small_model().save(path)
    rewrite_member(path, "config.json", b"[" * 100_000 + b"]" * 100_000)
    with pytest.raises(SavingError, match="nested more than 100 levels"):
        keras.models.load_model(path)
    moderately = '{"class_name": "Sequential", "config": ' + '{"a": ' * 150 + "1" + "}" * 151
    rewrite_member(path, "config.json", moderately.encode())
    with pytest.raises(SavingError, match="nested more than 100 levels"):
        keras.models.load_model(path)


def test_config_asking_for_a_huge_kernel_is_refused_before_allocating(tmp_path):
    import json
    path = str(tmp_path / "m.keras")
    small_model().save(path)
    config = config_of(path)
    first, dense = config["config"]["layers"][0], config["config"]["layers"][1]
    first["config"]["batch_shape"] = [None, 60000]
    dense["config"]["units"] = 60000
    dense["build_config"] = {"input_shape": [None, 60000]}
    rewrite_member(path, "config.json", json.dumps(config).encode())
    with pytest.raises(SavingError, match=r"asks layer 'dense\w*' for weight 'kernel' of shape \(60000, 60000\) "
                                          r"\(3,600,000,000 values\), but the file's weights hold only"):
        keras.models.load_model(path)


def test_legacy_h5_config_asking_for_a_huge_kernel_is_refused(tmp_path):
    import json
    path = str(tmp_path / "m.h5")
    small_model().save(path)
    with h5py.File(path, "a") as f:
        config = json.loads(f.attrs["model_config"])
        config["config"]["layers"][0]["config"]["batch_shape"] = [None, 60000]
        config["config"]["layers"][1]["config"]["units"] = 60000
        config["config"]["layers"][1]["build_config"] = {"input_shape": [None, 60000]}
        f.attrs["model_config"] = json.dumps(config)
    with pytest.raises(SavingError, match=r"shape \(60000, 60000\)"):
        keras.models.load_model(path)


def test_hdf5_shape_bomb_is_refused(tmp_path):
    path = str(tmp_path / "w.weights.h5")
    small_model().save_weights(path)
    with h5py.File(path, "a") as f:
        del f[KERNEL]
        f.create_dataset(KERNEL, shape=(60000, 60000), dtype=np.float32, chunks=(1000, 1000), compression="gzip")
    assert os.path.getsize(path) < 1 << 20
    target = small_model()
    before = weights_of(target)
    with pytest.raises(SavingError, match=r"declares shape \(60000, 60000\) \(14,400,000,000 bytes\) but the file "
                                          r"stores only 0 bytes"):
        target.load_weights(path)
    assert_same_weights(target, before)


# -- a failed load changes nothing ------------------------------------------------------------------------
def other_model(units):
    m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3), keras.layers.Dense(units)])
    m.compile(optimizer="adam", loss="mse")
    return m


@pytest.mark.parametrize("fmt", [".weights.h5", ".keras"])
def test_load_weights_where_only_the_first_layer_fits_changes_nothing(tmp_path, fmt):
    source = other_model(5)                       # Dense(3) fits, Dense(5) does not fit Dense(2)
    path = str(tmp_path / f"w{fmt}")
    source.save_weights(path) if fmt == ".weights.h5" else source.save(path)
    target = small_model()
    before = weights_of(target)
    with pytest.raises(SavingError, match=r"do not fit this model \(nothing was loaded\)") as err:
        target.load_weights(path)
    assert "shape (3, 5)" in str(err.value) and "shape (3, 2)" in str(err.value)
    assert_same_weights(target, before)
    target.load_weights(path, skip_mismatch=True)            # Keras' opt-in: what fits is loaded
    np.testing.assert_array_equal(target.layers[0].get_weights()[0], source.layers[0].get_weights()[0])


def test_set_weights_with_one_wrong_shape_changes_nothing():
    m = small_model()
    before = weights_of(m)
    bad = [np.ones_like(w) for w in before]
    bad[-1] = np.ones(5, np.float32)
    with pytest.raises(ValueError, match="No weight was changed"):
        m.set_weights(bad)
    assert_same_weights(m, before)


# -- litter and lost pointers ------------------------------------------------------------------------------
def dead_pid():
    import subprocess
    import sys
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_stale_temporaries_of_killed_saves_are_removed_on_the_next_save(tmp_path):
    import time
    path = tmp_path / "m.keras"
    pid, now = dead_pid(), time.time()
    dead = [tmp_path / f".m.keras.tmp-{pid}-0badc0de", tmp_path / f".m.keras.tmp-{pid}-0badc0de.h5"]
    old_live = tmp_path / f".m.keras.tmp-{os.getpid()}-00000001"           # ours, untouched for an hour
    busy = tmp_path / f".m.keras.tmp-{os.getpid()}-00000002"               # ours, being written now
    other_target = tmp_path / f".n.keras.tmp-{pid}-0badc0de"              # another file's temporary
    lookalike = tmp_path / "m.keras.tmp-1-0badc0de"                       # not our pattern
    for p in dead + [old_live, busy, other_target, lookalike]:
        p.write_bytes(b"x" * 1000)
    os.utime(old_live, (now - 3600, now - 3600))
    link = tmp_path / f".m.keras.tmp-{pid}-0000beef"
    link.symlink_to(lookalike)                                            # a link is never followed or removed
    small_model().save(str(path))
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == sorted(["m.keras", busy.name, other_target.name, lookalike.name, link.name])
    keras.models.load_model(str(path))


def test_an_interrupted_save_leaves_no_temporary_and_the_old_file(tmp_path, monkeypatch):
    path = str(tmp_path / "m.keras")
    m = small_model()
    m.save(path)
    files = snapshot(tmp_path)

    def interrupted(*args):
        raise KeyboardInterrupt
    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        m.save(path)
    assert snapshot(tmp_path) == files


def _saver_graph():
    import course.tf.compat.v1 as tf1
    tf1.reset_default_graph()
    v = tf1.Variable(np.zeros(3, np.float32), name="v")
    step = tf1.assign_add(v, np.ones(3, np.float32))
    return tf1, v, step


def test_saver_writes_the_state_file_before_deleting_old_checkpoints(tmp_path, monkeypatch):
    tf1, v, step = _saver_graph()
    folder = str(tmp_path)
    saver = tf1.train.Saver(max_to_keep=1)
    with tf1.Session() as sess:
        sess.run(tf1.global_variables_initializer())
        first = saver.save(sess, os.path.join(folder, "model.ckpt"), global_step=1)
        sess.run(step)
        real_remove = os.remove

        def failing_remove(p):
            if p.startswith(first):
                raise PermissionError(13, "Permission denied", p)
            real_remove(p)
        monkeypatch.setattr(os, "remove", failing_remove)
        with pytest.raises(PermissionError):
            saver.save(sess, os.path.join(folder, "model.ckpt"), global_step=2)
        monkeypatch.undo()
        latest = tf1.train.latest_checkpoint(folder)
        assert latest == os.path.join(folder, "model.ckpt-2")                # the new one, and it exists
        sess.run(tf1.assign(v, np.zeros(3, np.float32)))
        saver.restore(sess, latest)
        np.testing.assert_array_equal(sess.run(v), np.ones(3))


def test_saver_state_file_failure_keeps_the_old_checkpoint_reachable(tmp_path, monkeypatch):
    tf1, v, step = _saver_graph()
    folder = str(tmp_path)
    saver = tf1.train.Saver(max_to_keep=1)
    with tf1.Session() as sess:
        sess.run(tf1.global_variables_initializer())
        first = saver.save(sess, os.path.join(folder, "model.ckpt"), global_step=1)
        real_replace = os.replace

        def failing_replace(src, dst):
            if os.path.basename(dst) == "checkpoint":
                raise OSError(28, "No space left on device", dst)
            real_replace(src, dst)
        monkeypatch.setattr(os, "replace", failing_replace)
        with pytest.raises(OSError, match=r"Could not save .*checkpoint: No space left on device\. The disk is full"):
            saver.save(sess, os.path.join(folder, "model.ckpt"), global_step=2)
        monkeypatch.undo()
        assert tf1.train.latest_checkpoint(folder) == first                 # still reachable, still there
        assert not [n for n in os.listdir(folder) if ".tmp-" in n]


# -- careless input: clear errors that name the argument or file, and change nothing ----------------------
def xy(n=8):
    return np.zeros((n, 4), np.float32), np.zeros((n, 2), np.float32)


@pytest.mark.parametrize("call, expected", [
    (lambda m: m.predict("hello", verbose=0), r"predict: x is a string \('hello'\); the model needs numbers"),
    (lambda m: m.predict(np.array([["a"] * 4] * 2), verbose=0), r"predict: x holds strings \(dtype <U1"),
    (lambda m: m.fit(np.array([["a"] * 4] * 8), xy()[1], verbose=0), r"fit: x holds strings"),
    (lambda m: m(np.array([["a"] * 4])), r"Expected numbers; got strings"),
])
def test_string_inputs_are_refused_by_name(call, expected):
    m = small_model()
    before = weights_of(m)
    with pytest.raises(ValueError, match=expected):
        call(m)
    assert_same_weights(m, before)


@pytest.mark.parametrize("kwargs, error, expected", [
    ({"batch_size": 2.5}, TypeError, r"fit: batch_size must be an integer, such as batch_size=32; got 2\.5 of type "
                                     "float"),
    ({"batch_size": "32"}, TypeError, r"fit: batch_size must be an integer.*got '32' of type str"),
    ({"batch_size": 0}, ValueError, r"fit: batch_size must be at least 1; got 0"),
    ({"epochs": 2.5}, TypeError, r"fit: epochs must be an integer, such as epochs=10; got 2\.5"),
    ({"epochs": "3"}, TypeError, r"fit: epochs must be an integer.*got '3' of type str"),
    ({"class_weight": {0: "a"}}, ValueError, r"fit: class_weight\[0\] must be a finite number; got 'a' \(str\)"),
    ({"class_weight": {"zero": 1.0}}, ValueError, r"class_weight keys must be class indices"),
    ({"class_weight": [1.0, 2.0]}, ValueError, r"class_weight must be a dict"),
])
def test_fit_arguments_are_checked_before_training(kwargs, error, expected):
    m = small_model()
    before = weights_of(m)
    x, _ = xy()
    y = np.zeros(8, np.int64) if "class_weight" in kwargs else xy()[1]
    with pytest.raises(error, match=expected):
        m.fit(x, y, verbose=0, **kwargs)
    assert_same_weights(m, before)
    with pytest.raises(TypeError, match="evaluate: batch_size must be an integer"):
        m.evaluate(x, xy()[1], batch_size=2.5, verbose=0)
    with pytest.raises(TypeError, match="predict: batch_size must be an integer"):
        m.predict(x, batch_size="32", verbose=0)


@pytest.mark.parametrize("content, expected", [
    (b"null", r"config.json should hold a Keras model config, a JSON object with 'class_name' and 'config'; got "
              "NoneType"),
    (b"[1, 2]", r"config.json should hold a Keras model config.*got list"),
    (b"{not json", r"config.json is not valid JSON"),
    (b"\xff\xfe", r"config.json is not valid JSON"),
])
def test_malformed_config_json_is_a_clear_error(tmp_path, content, expected):
    path = str(tmp_path / "m.keras")
    small_model().save(path)
    rewrite_member(path, "config.json", content)
    files = snapshot(tmp_path)
    with pytest.raises(SavingError, match=expected):
        keras.models.load_model(path)
    assert snapshot(tmp_path) == files


@pytest.mark.parametrize("value", ["3", 3.5, True, 0])
def test_non_integer_units_in_a_config_are_refused_as_keras_does(tmp_path, value):
    import json
    path = str(tmp_path / "m.keras")
    small_model().save(path)
    config = config_of(path)
    config["config"]["layers"][1]["config"]["units"] = value
    rewrite_member(path, "config.json", json.dumps(config).encode())
    with pytest.raises(SavingError, match=r"the saved model config cannot be rebuilt: ValueError: Received an invalid "
                                          r"value for `units`, expected a positive integer\. Received: units="):
        keras.models.load_model(path)
    with pytest.raises(ValueError, match="expected a positive integer"):
        keras.layers.Dense(value)
    with pytest.raises(ValueError, match="Expected a strictly positive integer"):
        keras.layers.Conv2D(value, 3)


def test_weights_stored_as_strings_records_or_complex_numbers_are_refused(tmp_path):
    path = str(tmp_path / "w.weights.h5")
    small_model().save_weights(path)
    target = small_model()
    before = weights_of(target)
    cases = {
        "string": (np.array([[b"abc"] * 3] * 4), r"holds \|S3 values \(strings or records\), not numbers"),
        "compound": (np.zeros((4, 3), dtype=[("a", "f4"), ("b", "f4")]), r"strings or records"),
        "complex": (np.ones((4, 3), np.complex64) * (1 + 2j), r"holds complex numbers \(complex64\).*imaginary part"),
    }
    for name, (value, expected) in cases.items():
        with h5py.File(path, "a") as f:
            del f[KERNEL]
            f.create_dataset(KERNEL, data=value)
        with pytest.raises(SavingError, match=expected):
            target.load_weights(path)
        assert_same_weights(target, before)


def _legacy_file(tmp_path):
    path = str(tmp_path / "m.h5")
    small_model().save(path)
    return path


def _legacy_cases():
    def attr(name, value):
        def edit(f):
            f.attrs[name] = value
        return edit

    def delete(key):
        def edit(f):
            del f[key]
        return edit

    def delete_attr(key, name):
        def edit(f):
            del f[key].attrs[name]
        return edit
    return {
        "model_config not JSON": (attr("model_config", "{oops"), r"attribute 'model_config' is not valid JSON"),
        "model_config a list": (attr("model_config", "[1]"), r"attribute 'model_config' should hold a Keras model "
                                                             "config.*got list"),
        "training_config not JSON": (attr("training_config", "{oops"), r"attribute 'training_config' is not valid "
                                                                       "JSON"),
        "training_config null": (attr("training_config", "null"), r"attribute 'training_config' should hold a JSON "
                                                                  "object; got NoneType"),
        "no model_weights": (delete("model_weights"), r"the HDF5 group '/model_weights' is missing"),
        "no layer_names": (delete_attr("model_weights", "layer_names"), r"'/model_weights' lacks the attribute "
                                                                        "'layer_names'"),
    }


@pytest.mark.parametrize("case", sorted(_legacy_cases()))
def test_malformed_legacy_h5_is_a_clear_error(tmp_path, case):
    path = _legacy_file(tmp_path)
    edit, expected = _legacy_cases()[case]
    with h5py.File(path, "a") as f:
        edit(f)
    files = snapshot(tmp_path)
    with pytest.raises(SavingError, match=expected) as err:
        keras.models.load_model(path)
    assert path in str(err.value)
    assert snapshot(tmp_path) == files


def test_legacy_h5_missing_weight_dataset_is_named(tmp_path):
    path = _legacy_file(tmp_path)
    with h5py.File(path, "a") as f:
        layer = f["model_weights"][next(iter(f["model_weights"]))]
        name = np.char.decode(layer.attrs["weight_names"].astype(bytes))[0]
        del layer[name]
    with pytest.raises(SavingError, match=r"the HDF5 dataset '.*kernel' is missing"):
        keras.models.load_model(path)


def test_a_folder_named_like_a_model_file(tmp_path):
    folder = tmp_path / "x.keras"
    folder.mkdir()
    m = small_model()
    with pytest.raises(SavingError, match=r"x.keras is a folder, not a '.keras' file"):
        keras.models.load_model(str(folder))
    with pytest.raises(SavingError, match=r"is a folder"):
        m.load_weights(str(folder))
    with pytest.raises(IsADirectoryError, match=r"Could not save .*x.keras: Is a directory\. .*x.keras is a folder: "
                                                "choose a file name"):
        m.save(str(folder))
    assert os.listdir(tmp_path) == ["x.keras"] and os.listdir(folder) == []


# -- full disks and read-only folders (injected: CI runs as root, where chmod denies nothing) ---------------
def _failing_open(monkeypatch, exc):
    import builtins
    import io
    real_open = builtins.open

    def fake_open(file, mode="r", *args, **kwargs):
        if any(c in mode for c in "wax") and ".tmp-" in os.fspath(file):
            raise exc
        return real_open(file, mode, *args, **kwargs)
    monkeypatch.setattr(builtins, "open", fake_open)
    monkeypatch.setattr(io, "open", fake_open)


@pytest.mark.parametrize("exc, expected", [
    (OSError(28, "No space left on device"), r"\[Errno 28\] Could not save .*model\.ckpt-1\.data-00000-of-00001: No "
                                             r"space left on device\. The disk is full"),
    (PermissionError(13, "Permission denied"), r"Could not save .*model\.ckpt-1\.data-00000-of-00001: Permission "
                                               r"denied\. The folder .* is not writable"),
])
def test_saver_save_on_a_full_disk_or_read_only_folder_names_the_target(tmp_path, monkeypatch, exc, expected):
    tf1, v, step = _saver_graph()
    saver = tf1.train.Saver()
    with tf1.Session() as sess:
        sess.run(tf1.global_variables_initializer())
        _failing_open(monkeypatch, exc)
        with pytest.raises(type(exc), match=expected) as err:
            saver.save(sess, str(tmp_path / "model.ckpt"), global_step=1)
        assert ".tmp-" not in str(err.value)
    monkeypatch.undo()
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("exc, expected", [
    (OSError(28, "No space left on device"), "The disk is full"),
    (PermissionError(13, "Permission denied"), "is not writable"),
])
def test_model_save_failures_name_the_target_and_keep_the_old_file(tmp_path, monkeypatch, exc, expected):
    m = small_model()
    for name in ("m.keras", "w.weights.h5", "m.h5"):
        path = str(tmp_path / name)
        m.save_weights(path) if name.endswith(".weights.h5") else m.save(path)
    files = snapshot(tmp_path)

    def failing_replace(src, dst):
        raise exc
    monkeypatch.setattr(os, "replace", failing_replace)
    for name in ("m.keras", "w.weights.h5", "m.h5"):
        path = str(tmp_path / name)
        with pytest.raises(type(exc), match=rf"Could not save {path}: .*{expected}") as err:
            m.save_weights(path) if name.endswith(".weights.h5") else m.save(path)
        assert ".tmp-" not in str(err.value)
    monkeypatch.undo()
    assert snapshot(tmp_path) == files
