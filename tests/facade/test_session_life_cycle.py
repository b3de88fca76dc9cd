"""A TF1 session's life cycle, checked against TensorFlow 2.21: closing it, and running it once closed."""
import pytest

import course.tf.compat.v1 as ktf

tf = pytest.importorskip("tensorflow")


def _closed_session_errors(lib):
    """Errors from running a session closed by close() and one closed by its with-block."""
    errors = []
    g = lib.Graph()
    with g.as_default():
        c = lib.constant(2.0) * 3.0
        sess = lib.Session(graph=g)
        assert sess.run(c) == 6.0
        sess.close()
        sess.close()                                   # closing twice is harmless
        with lib.Session(graph=g) as scoped:
            assert scoped.run(c) == 6.0
        for s in (sess, scoped):
            with pytest.raises(Exception) as info:
                s.run(c)
            errors.append((type(info.value).__name__, str(info.value)))
    return errors


def test_running_a_closed_session_raises_tensorflows_error():
    # TF1 graph mode inside the Graph's own context only: switching TensorFlow's global eager mode
    # off and back on fails once TensorFlow has run anything, and would leak into later tests.
    expected = _closed_session_errors(tf.compat.v1)
    assert expected == [("RuntimeError", "Attempted to use a closed Session.")] * 2
    assert _closed_session_errors(ktf) == expected
