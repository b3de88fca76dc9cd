"""Assertions for checks, with messages a learner can act on, in English and in Chinese.

Each helper raises `CheckFailure` saying what was compared, on which input, what was expected and
what arrived; for tensors: the type, the shape, the dtype, or the largest difference and where.

    expect_close(got, expected, what="scale_tensor(x, 2.0)", inputs={"x": x})
    ->  scale_tensor(x, 2.0): values differ at 1 of 3 positions: at (2,) got 5, expected 6
        (tolerance atol=1e-06, rtol=1e-05). Input: x = tensor [1, 2, 3] (shape (3,), float32).
    ->  scale_tensor(x, 2.0)：有 1 个位置（共 3 个）的值不同：在 (2,) 处得到 5，期望 6
        （容差 atol=1e-06，rtol=1e-05）。输入：x = 张量 [1, 2, 3]（形状 (3,)，float32）。

A check's own message is written in both languages where it is raised:
`raise CheckFailure(en=f"...", zh=f"...")`; `what=` is plain text only when it is code (the same
in both languages), otherwise `say(en, zh)`.
"""
from __future__ import annotations

import math
import sys

from course.exercises.language import Text, say

__all__ = ["CheckFailure", "Recorded", "Text", "say", "describe", "expect", "expect_equal",
           "expect_close", "expect_shape",
           "as_tensor"]


class CheckFailure(AssertionError):
    """A check found a wrong answer; `text` (a Text) is shown to the learner in the lesson's language.

    `CheckFailure(en="...", zh="...")`, or `CheckFailure(say("...", "..."))`; str() gives the English."""

    def __init__(self, en="", zh: str | None = None):
        # A message without its Chinese shows the English in both (tests/exercises/test_feedback_lang.py
        # finds such raise sites; the learner still gets the explanation).
        text = en if isinstance(en, Text) and zh is None else Text(str(en), str(en if zh is None else zh))
        super().__init__(text.en)
        self.text = text

    def __reduce__(self):               # both languages survive pickling
        return type(self), (self.text,)


class Recorded(Exception):
    """The answer is well-formed and recorded, but only the instructor's checks file can score it (no
    points here; `text` says so in both languages)."""

    def __init__(self, text: Text):
        super().__init__(text.en)
        self.text = text

    def __reduce__(self):
        return type(self), (self.text,)


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


def describe(x, *, limit: int = 6, lang: str = "en") -> str:
    """A short description: a few values (4 significant digits), the shape and the dtype; `lang` 'zh'
    says it in Chinese ("张量 [1, 2]（形状 (2,)，float32）")."""
    if _is_tensor_like(x):
        torch = _torch()
        t = as_tensor(x)
        kind = "tensor" if isinstance(x, torch.Tensor) else type(x).__name__
        if lang == "zh" and kind == "tensor":
            kind = "张量"
        if t is None:
            return f"{kind}"
        if lang == "zh":
            return f"{kind} {_values(t, limit)}（形状 {tuple(t.shape)}，{_dtype_name(t)}）"
        return f"{kind} {_values(t, limit)} (shape {tuple(t.shape)}, {_dtype_name(t)})"
    if isinstance(x, float):
        return _num(x)
    text = repr(x)
    return text if len(text) <= 80 else text[:77] + "..."


def _inputs(inputs: dict | None) -> Text:
    if not inputs:
        return Text("", "")
    return Text(" Input: " + ", ".join(f"{k} = {describe(v)}" for k, v in inputs.items()) + ".",
                "输入：" + "，".join(f"{k} = {describe(v, lang='zh')}" for k, v in inputs.items()) + "。")


def _fail(what, en: str, zh: str, inputs: dict | None = None):
    """CheckFailure "<what>: <en><inputs>" / "<what>：<zh><inputs>"; `what` is code (a str) or a Text."""
    what, shown = Text.of(what), _inputs(inputs)
    return CheckFailure(en=f"{what.en}: {en}{shown.en}", zh=f"{what.zh}：{zh}{shown.zh}")


_RESULT = say("the result", "结果")


def expect(condition, en="", zh: str | None = None) -> None:
    """Raise CheckFailure(en=en, zh=zh) unless `condition` is true (`en` may be a Text, without `zh`)."""
    if not condition:
        raise CheckFailure(en, zh)


def expect_equal(got, expected, *, what=_RESULT, inputs: dict | None = None) -> None:
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
        raise _fail(what, f"expected {expected!r}, got {describe(got)}.",
                    f"期望 {expected!r}，得到 {describe(got, lang='zh')}。", inputs)


def expect_shape(got, shape, *, what=_RESULT, inputs: dict | None = None) -> None:
    """`got` is tensor-like with shape `shape`."""
    t = as_tensor(got) if _is_tensor_like(got) else None
    if t is None:
        raise _fail(what, f"expected a tensor of shape {tuple(shape)}, got {describe(got)}.",
                    f"期望形状为 {tuple(shape)} 的张量，得到 {describe(got, lang='zh')}。", inputs)
    if tuple(t.shape) != tuple(shape):
        raise _fail(what, f"shape: expected {tuple(shape)}, got {tuple(t.shape)}.",
                    f"形状：期望 {tuple(shape)}，得到 {tuple(t.shape)}。", inputs)


def expect_close(got, expected, *, what=_RESULT, inputs: dict | None = None,
                 rtol: float = 1e-5, atol: float = 1e-6, check_dtype: bool = True,
                 kind: str | None = None) -> None:
    """`got` matches the tensor `expected` in type, shape, dtype and values (within atol + rtol·|expected|).

    `kind='torch'` or `kind='numpy'` also requires that array type. `what` names what was compared:
    code as a plain str, prose as `say(en, zh)`.
    """
    torch = _torch()
    import numpy as np
    if kind == "torch" and not isinstance(got, torch.Tensor):
        numpy_in = isinstance(got, np.ndarray)
        raise _fail(what, f"expected a torch.Tensor, got {type(got).__name__}."
                          + (" Convert with torch.from_numpy(...)." if numpy_in else ""),
                    f"期望 torch.Tensor，得到 {type(got).__name__}。"
                    + ("请用 torch.from_numpy(...) 转换。" if numpy_in else ""), inputs)
    if kind == "numpy" and not isinstance(got, np.ndarray):
        torch_in = isinstance(got, torch.Tensor)
        raise _fail(what, f"expected a numpy.ndarray, got {type(got).__name__}."
                          + (" Convert with .numpy()." if torch_in else ""),
                    f"期望 numpy.ndarray，得到 {type(got).__name__}。"
                    + ("请用 .numpy() 转换。" if torch_in else ""), inputs)
    g = as_tensor(got) if _is_tensor_like(got) or isinstance(got, (int, float, bool)) else None
    e = as_tensor(expected)
    if g is None:
        raise _fail(what, f"expected a tensor like {describe(expected)}, got {describe(got)}.",
                    f"期望类似 {describe(expected, lang='zh')} 的张量，得到 {describe(got, lang='zh')}。", inputs)
    if tuple(g.shape) != tuple(e.shape):
        raise _fail(what, f"shape: expected {tuple(e.shape)}, got {tuple(g.shape)}.",
                    f"形状：期望 {tuple(e.shape)}，得到 {tuple(g.shape)}。", inputs)
    if check_dtype and g.dtype != e.dtype:
        raise _fail(what, f"dtype: expected {_dtype_name(e)}, got {_dtype_name(g)}.",
                    f"数据类型：期望 {_dtype_name(e)}，得到 {_dtype_name(g)}。", inputs)
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
    places, places_zh = [], []
    for flat in [worst] + others:
        index = tuple(int(i) for i in np.unravel_index(flat, tuple(g.shape))) if g.dim() else ()
        at = f"{index if len(index) != 1 else '(' + str(index[0]) + ',)'}" if g.dim() else ""
        pair = _num(g.reshape(-1)[flat].item()), _num(e.reshape(-1)[flat].item())
        places.append(f"{'at ' + at + ' ' if at else ''}got {pair[0]}, expected {pair[1]}")
        places_zh.append(f"{'在 ' + at + ' 处' if at else ''}得到 {pair[0]}，期望 {pair[1]}")
    if exact:
        tol, tol_zh = "an exact match is expected", "要求完全相等"
    else:
        tol = f"tolerance atol={atol:g}, rtol={rtol:g}"
        tol_zh = f"容差 atol={atol:g}，rtol={rtol:g}"
    head = f"values differ at {count} of {g.numel()} positions: " if g.dim() else "value differs: "
    head_zh = f"有 {count} 个位置（共 {g.numel()} 个）的值不同：" if g.dim() else "值不同："
    raise _fail(what, f"{head}{'; '.join(places)} ({tol}).", f"{head_zh}{'；'.join(places_zh)}（{tol_zh}）。",
                inputs)
