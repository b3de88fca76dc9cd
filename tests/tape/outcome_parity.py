"""Shared comparison for the eager differential tests: run one case on real TensorFlow and on
course.tf, then the outcomes must agree: both a value (same dtype, shape and numbers) or both an
error of the same class."""
import numpy as np


def _plain(value):
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return np.asarray(value.numpy() if hasattr(value, "numpy") else value)


def outcome(case, module):
    """("value", array or list of arrays) or ("error", the exception's class name)."""
    try:
        return "value", _plain(case(module))
    except Exception as exc:                      # the error's class is what must agree
        return "error", type(exc).__name__


def _same(ours, theirs, name, rtol, atol):
    if isinstance(theirs, list):
        assert isinstance(ours, list) and len(ours) == len(theirs), name
        for o, t in zip(ours, theirs):
            _same(o, t, name, rtol, atol)
        return
    assert ours.dtype == theirs.dtype, f"{name}: dtype {ours.dtype} vs TensorFlow's {theirs.dtype}"
    assert ours.shape == theirs.shape, f"{name}: shape {ours.shape} vs TensorFlow's {theirs.shape}"
    if ours.dtype.kind in "fc":
        np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=atol, err_msg=name)
    else:
        np.testing.assert_array_equal(ours, theirs, err_msg=name)


def assert_same_outcome(name, case, tf, ctf, *, rtol, atol=0.0):
    """`case(tf)` and `case(ctf)` agree; floats within rtol/atol (the caller says why), the rest exactly."""
    kind_t, theirs = outcome(case, tf)
    kind_o, ours = outcome(case, ctf)
    assert kind_o == kind_t, f"{name}: TensorFlow gives {kind_t} {theirs!r}, course.tf {kind_o} {ours!r}"
    if kind_t == "error":
        assert ours == theirs, f"{name}: TensorFlow raises {theirs}, course.tf {ours}"
    else:
        _same(ours, theirs, name, rtol, atol)
