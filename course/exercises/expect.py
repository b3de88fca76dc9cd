"""Assertions for checks, with messages a learner can act on.

Each helper raises `CheckFailure` saying what was compared, on which input, what was expected and
what arrived; for tensors: the type, the shape, the dtype, or the largest difference and where.

    expect_close(got, expected, what="scale_tensor(x, 2.0)", inputs={"x": x})
    ->  scale_tensor(x, 2.0): values differ at 1 of 3 positions: at (2,) got 5, expected 6
        (tolerance atol=1e-06, rtol=1e-05). Input: x = tensor [1, 2, 3] (shape (3,), float32).
"""
from __future__ import annotations

import math
import sys

__all__ = ["CheckFailure", "describe", "expect", "expect_equal", "expect_close", "expect_shape", "as_tensor"]


class CheckFailure(AssertionError):
    """A check found a wrong answer; the message is shown to the learner as is."""


def _torch():
    import torch
    return torch


def _is_tensor_like(x) -> bool:
    # Without importing torch or numpy: plain-Python checks should not pay for those imports.
    torch, np = sys.modules.get("torch"), sys.modules.get("numpy")
    if torch is not None and isinstance(x, torch.Tensor):
        return True
    if np is not None and isinstance(x, (np.ndarray, np.generic)):
        return True
    return not isinstance(x, type) and callable(getattr(x, "numpy", None))


def as_tensor(x):
    """`x` (torch tensor, numpy array, EagerTensor, number) as a CPU torch tensor; None if not tensor-like."""
    torch = _torch()
    import numpy as np
    if isinstance(x, torch.Tensor):
        return x.detach().cpu()
    if isinstance(x, (np.ndarray, np.generic)):
        return torch.from_numpy(np.array(x))
    if callable(getattr(x, "numpy", None)):
        try:
            return torch.from_numpy(np.array(x.numpy()))
        except Exception:
            return None
    if isinstance(x, (bool, int, float)):
        return torch.tensor(x)
    return None


def _dtype_name(x) -> str:
    return str(getattr(x, "dtype", type(x).__name__)).replace("torch.", "")


def _num(v) -> str:
    """A number with 4 significant digits (ints and bools as they are)."""
    if isinstance(v, bool) or isinstance(v, int):
        return str(v)
    if isinstance(v, complex):
        return f"{v.real:.4g}{v.imag:+.4g}j"
    return f"{v:.4g}"


def _values(t, limit: int) -> str:
    """At most `limit` values of a tensor, 4 significant digits: nested when small, flat with … when big."""
    flat = t.reshape(-1).tolist()
    if t.numel() <= limit:
        def nest(x):
            return "[" + ", ".join(nest(v) for v in x) + "]" if isinstance(x, list) else _num(x)
        return nest(t.tolist()) if t.dim() else _num(t.item())
    return "[" + ", ".join(_num(v) for v in flat[:limit]) + ", …]"


def describe(x, *, limit: int = 6) -> str:
    """A short description: a few values (4 significant digits), the shape and the dtype."""
    if _is_tensor_like(x):
        torch = _torch()
        t = as_tensor(x)
        kind = "tensor" if isinstance(x, torch.Tensor) else type(x).__name__
        if t is None:
            return f"{kind}"
        return f"{kind} {_values(t, limit)} (shape {tuple(t.shape)}, {_dtype_name(t)})"
    if isinstance(x, float):
        return _num(x)
    text = repr(x)
    return text if len(text) <= 80 else text[:77] + "..."


def _inputs(inputs: dict | None) -> str:
    if not inputs:
        return ""
    return " Input: " + ", ".join(f"{k} = {describe(v)}" for k, v in inputs.items()) + "."


def expect(condition, message: str) -> None:
    """Raise CheckFailure(message) unless `condition` is true."""
    if not condition:
        raise CheckFailure(message)


def expect_equal(got, expected, *, what: str = "the result", inputs: dict | None = None) -> None:
    """`got == expected` for plain values (ints, strings, tuples, dtypes, shapes)."""
    if _is_tensor_like(got) or _is_tensor_like(expected):
        return expect_close(got, expected, what=what, inputs=inputs, rtol=0, atol=0)
    if isinstance(expected, bool) or isinstance(got, bool):
        same = type(got) is type(expected) and got == expected
    else:
        try:
            same = bool(got == expected)
        except Exception:
            same = False
    if not same:
        raise CheckFailure(f"{what}: expected {expected!r}, got {describe(got)}.{_inputs(inputs)}")


def expect_shape(got, shape, *, what: str = "the result", inputs: dict | None = None) -> None:
    """`got` is tensor-like with shape `shape`."""
    t = as_tensor(got) if _is_tensor_like(got) else None
    if t is None:
        raise CheckFailure(f"{what}: expected a tensor of shape {tuple(shape)}, "
                           f"got {describe(got)}.{_inputs(inputs)}")
    if tuple(t.shape) != tuple(shape):
        raise CheckFailure(f"{what}: shape: expected {tuple(shape)}, got {tuple(t.shape)}.{_inputs(inputs)}")


def expect_close(got, expected, *, what: str = "the result", inputs: dict | None = None,
                 rtol: float = 1e-5, atol: float = 1e-6, check_dtype: bool = True,
                 kind: str | None = None) -> None:
    """`got` matches the tensor `expected` in type, shape, dtype and values (within atol + rtol·|expected|).

    `kind='torch'` or `kind='numpy'` also requires that array type.
    """
    torch = _torch()
    import numpy as np
    where, shown = what, _inputs(inputs)
    if kind == "torch" and not isinstance(got, torch.Tensor):
        hint = " Convert with torch.from_numpy(...)." if isinstance(got, np.ndarray) else ""
        raise CheckFailure(f"{where}: expected a torch.Tensor, got {type(got).__name__}.{hint}{shown}")
    if kind == "numpy" and not isinstance(got, np.ndarray):
        hint = " Convert with .numpy()." if isinstance(got, torch.Tensor) else ""
        raise CheckFailure(f"{where}: expected a numpy.ndarray, got {type(got).__name__}.{hint}{shown}")
    g = as_tensor(got) if _is_tensor_like(got) or isinstance(got, (int, float, bool)) else None
    e = as_tensor(expected)
    if g is None:
        raise CheckFailure(f"{where}: expected a tensor like {describe(expected)}, got {describe(got)}.{shown}")
    if tuple(g.shape) != tuple(e.shape):
        raise CheckFailure(f"{where}: shape: expected {tuple(e.shape)}, got {tuple(g.shape)}.{shown}")
    if check_dtype and g.dtype != e.dtype:
        raise CheckFailure(f"{where}: dtype: expected {_dtype_name(e)}, got {_dtype_name(g)}.{shown}")
    if g.numel() == 0:
        return
    exact = not (g.is_floating_point() or g.is_complex() or e.is_floating_point() or e.is_complex())
    gd, ed = g.to(torch.float64), e.to(torch.float64)
    if exact:
        bad = gd != ed
    else:
        nan_mismatch = torch.isnan(gd) != torch.isnan(ed)
        bad = nan_mismatch | (~torch.isclose(gd, ed, rtol=rtol, atol=atol, equal_nan=True))
    if not bool(bad.any()):
        return
    diff = torch.where(torch.isnan(gd) | torch.isnan(ed), torch.full_like(gd, math.inf), (gd - ed).abs())
    diff = torch.where(bad, diff, torch.zeros_like(diff)).reshape(-1)
    count = int(bad.sum())
    # The worst position first, then up to two more of the positions that differ, in order.
    worst = int(torch.argmax(diff))
    others = [i for i in torch.nonzero(bad.reshape(-1)).reshape(-1)[:3].tolist() if i != worst][:2]
    places = []
    for flat in [worst] + others:
        index = tuple(int(i) for i in np.unravel_index(flat, tuple(g.shape))) if g.dim() else ()
        at = f"at {index if len(index) != 1 else '(' + str(index[0]) + ',)'} " if g.dim() else ""
        places.append(f"{at}got {_num(g.reshape(-1)[flat].item())}, expected {_num(e.reshape(-1)[flat].item())}")
    tol = "an exact match is expected" if exact else f"tolerance atol={atol:g}, rtol={rtol:g}"
    head = f"values differ at {count} of {g.numel()} positions: " if g.dim() else "value differs: "
    raise CheckFailure(f"{what}: {head}{'; '.join(places)} ({tol}).{_inputs(inputs)}")
