"""`tf.compat.v1.initialize_all_variables`: the deprecated alias, checked against TensorFlow 2.21."""
import logging

import numpy as np
import pytest

import course.tf.compat.v1 as ktf

tf = pytest.importorskip("tensorflow")


def _deprecation_lines(records):
    return [r.getMessage() for r in records if "initialize_all_variables" in r.getMessage()]


def _run(lib, caplog):
    """Build w = 3 and a counter, initialise with the alias, read w; return (value, warnings logged)."""
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="tensorflow"):
        g = lib.Graph()
        with g.as_default():
            w = lib.Variable(np.float32(3.0), name="w")
            init = lib.initialize_all_variables()
            init_again = lib.initialize_all_variables()
            with lib.Session(graph=g) as sess:
                sess.run(init)
                sess.run(init_again)
                value = sess.run(w)
    return value, init.name, _deprecation_lines(caplog.records)


def test_the_alias_initialises_every_variable_and_warns_once_as_tensorflow_does(caplog):
    # TF1 graph mode inside the Graph's own context only: switching TensorFlow's global eager mode
    # off and back on fails once TensorFlow has run anything, and would leak into later tests.
    tf_value, tf_name, tf_lines = _run(tf.compat.v1, caplog)
    value, name, lines = _run(ktf, caplog)
    assert value == tf_value == 3.0
    assert name.split(":")[0] == tf_name.split(":")[0] == "init"
    # TF warns once per process; the test suite may already have triggered it, so compare the text when it shows.
    assert len(lines) <= 1 and len(tf_lines) <= 1
    for text in lines + tf_lines:
        tail = text.split(": ", 1)[1]
        assert tail == ("initialize_all_variables (from tensorflow.python.ops.variables) is deprecated and will "
                        "be removed after 2017-03-02.\nInstructions for updating:\n"
                        "Use `tf.global_variables_initializer` instead.")


def test_the_kit_warns_in_a_fresh_process_and_names_the_caller():
    import subprocess
    import sys
    prog = ("import course.tf.compat.v1 as tf\nv = tf.Variable(1.0)\ninit = tf.initialize_all_variables()\n"
            "tf.initialize_all_variables()\n")
    out = subprocess.run([sys.executable, "-c", prog], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stderr.count("is deprecated and will be removed after 2017-03-02") == 1, out.stderr
    assert "From <string>:3: initialize_all_variables" in out.stderr
    assert "Use `tf.global_variables_initializer` instead." in out.stderr
