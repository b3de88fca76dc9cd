"""`tf.debugging` assertions on eager tensors: raise InvalidArgumentError when a condition fails.

    tf.debugging.assert_greater(x, 0.0, message="x must be positive")

Inside a traced tf.function the same names build an `Assert` op instead (course.graph), which
checks on every call and keeps its place in program order.
"""
import numpy as np
import torch

from course.framework.errors import InvalidArgumentError
from course.tape.tensor import to_numpy, to_tensor

__all__ = ["Assert", "assert_equal", "assert_greater", "assert_greater_equal", "assert_less", "assert_less_equal",
           "assert_positive", "assert_negative", "assert_non_negative", "assert_non_positive", "COMPARISONS"]

# name -> (symbol TF prints, numpy comparison)
COMPARISONS = {"assert_equal": ("==", np.equal), "assert_greater": (">", np.greater),
               "assert_greater_equal": (">=", np.greater_equal), "assert_less": ("<", np.less),
               "assert_less_equal": ("<=", np.less_equal)}


def _value(t):
    return to_numpy(t) if isinstance(t, torch.Tensor) else np.asarray(t)


def failure_text(symbol, x, y, message=None):
    """TF's text for a failed comparison assertion (first values of x and y)."""
    head = f"{message}\n" if message else ""
    return (f"{head}Condition x {symbol} y did not hold element-wise:\nx = {np.ravel(x)[:3]}\n"
            f"y = {np.ravel(y)[:3]}")


def Assert(condition, data, summarize=None, name=None):   # noqa: N802 (TF's name)
    """Raise InvalidArgumentError showing `data` unless `condition` (a boolean scalar) holds."""
    if not bool(_value(condition)):
        shown = " ".join(str(_value(d)) if isinstance(d, torch.Tensor) else str(d) for d in data)
        raise InvalidArgumentError(f"assertion failed: {shown}")


def _compare(kind):
    symbol, test = COMPARISONS[kind]

    def check(x, y, message=None, summarize=None, name=None):
        a, b = _value(to_tensor(x)), _value(to_tensor(y))
        if not np.all(test(a, b)):
            raise InvalidArgumentError(failure_text(symbol, a, b, message))
    check.__name__ = kind
    check.__doc__ = f"Raise InvalidArgumentError unless x {symbol} y everywhere (TF's `tf.debugging.{kind}`)."
    return check


assert_equal = _compare("assert_equal")
assert_greater = _compare("assert_greater")
assert_greater_equal = _compare("assert_greater_equal")
assert_less = _compare("assert_less")
assert_less_equal = _compare("assert_less_equal")


def assert_positive(x, message=None, summarize=None, name=None):
    return assert_greater(x, 0, message)


def assert_negative(x, message=None, summarize=None, name=None):
    return assert_less(x, 0, message)


def assert_non_negative(x, message=None, summarize=None, name=None):
    return assert_greater_equal(x, 0, message)


def assert_non_positive(x, message=None, summarize=None, name=None):
    return assert_less_equal(x, 0, message)
