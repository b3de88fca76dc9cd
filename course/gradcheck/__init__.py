"""Numerical gradient checking: compare analytic gradients with centred differences.

For a scalar function f and one input element x_i, the centred difference

    n_i = (f(x + h·e_i) − f(x − h·e_i)) / (2h)                       (h = ``eps``)

has truncation error O(h²) and rounding error about ε_mach·|f| / h.  Everything is computed on
float64 copies of the inputs (ε_mach ≈ 2.2e-16): with h = 1e-6 both errors are ~1e-10 relative.
In float32 (ε_mach ≈ 1.2e-7) the rounding error alone would be ~0.1·|f| at h = 1e-6, and a
larger h trades it for truncation error -- no h gives better than ~1e-3, far too coarse to tell
a correct gradient from a slightly wrong one.

Each element is compared by its relative error

    r_i = |a_i − n_i| / max(|a_i|, |n_i|, floor_i),

where a is the analytic gradient.  ``floor_i`` guards elements whose true gradient is (nearly)
zero: it is the rounding noise of that element's difference (8 ulps of the values differenced,
divided by the step 2h) divided by the pass threshold, so rounding alone cannot fail a check;
such elements are in effect compared absolutely (pass ``tiny=`` to use a fixed floor instead).

Verdict per tensor, on its worst element (thresholds as in CS231n's notes):

* ``pass``       r ≤ 1e-7   -- the gradient is right;
* ``suspicious`` 1e-7 < r ≤ 1e-2 -- up to 1e-4 is normal *only* for functions with kinks
  (ReLU, max, hinge); otherwise, and above 1e-4, look for a bug;
* ``wrong``      r > 1e-2   -- the analytic gradient is almost certainly wrong.

Kinks.  Where f is not differentiable (a ReLU input within h of 0, a max-pool tie, a hinge at
its margin) the difference straddles the kink and n_i is a mix of the two one-sided slopes.  We
also evaluate f(x) and measure how much the one-sided slopes disagree,
D_i = (f(x+h) − 2f(x) + f(x−h)) / h; for a kink the centred difference is off by exactly |D_i|/2.
An element whose mismatch that explains is reported as a kink and left out of the verdict; a
smooth function's D_i is O(h·f'') and never excuses a real bug.

Random operations (dropout) are repeatable inside a check: every evaluation of f runs with
torch's generators reseeded to ``seed``.

Entry points: :func:`numerical_gradient`, :func:`check_gradients` (a function of tensors),
:func:`check_module_gradients` (an ``nn.Module``'s parameters), :func:`check_scratch_pair`
(a :mod:`course.scratch` forward/backward pair) and :func:`check_scratch_loss` (a scratch loss).
"""

from __future__ import annotations

import contextlib
import copy
import html
import inspect
import sys
import warnings
from dataclasses import dataclass, field

import torch

from course.gradcheck.numeric import (align, compare, fixed_rng, float32_note, fn_name, is_checkable, names_from,
                                     one_thread, to64, warn)
from course.gradcheck.report import GOOD, KINK_OK, WRONG, GradcheckReport, GradcheckWarning, TensorCheck

__all__ = [
    "GOOD", "WRONG", "KINK_OK",
    "GradcheckWarning", "TensorCheck", "GradcheckReport",
    "numerical_gradient", "check_gradients", "check_module_gradients", "check_scratch_pair", "check_scratch_loss",
]

# ----------------------------------------------------------------------------------------------
# Entry points
# ----------------------------------------------------------------------------------------------

def numerical_gradient(f, x: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    r"""Centred-difference gradient of a scalar function: n_i = (f(x + h·e_i) − f(x − h·e_i)) / 2h.

    ``x`` is copied to float64 (a warning explains why float32 is not enough); ``f`` receives that
    copy, perturbed one element at a time, and must return a scalar.  Returns a float64 tensor
    shaped like ``x``.  Every element costs two evaluations of f.
    """
    if not is_checkable(x):
        raise TypeError(f"numerical_gradient needs a floating-point tensor; got {type(x).__name__} "
                        f"{getattr(x, 'dtype', '')}.")
    if x.dtype == torch.float32:
        float32_note(["x"])
    x64 = to64(x)
    flat = x64.view(-1)
    grad = torch.empty_like(flat)
    with one_thread(), torch.no_grad():
        for k in range(flat.numel()):
            x0 = flat[k].item()
            flat[k] = x0 + eps
            fp = float(f(x64))
            flat[k] = x0 - eps
            fm = float(f(x64))
            flat[k] = x0
            grad[k] = (fp - fm) / ((x0 + eps) - (x0 - eps))  # the step actually taken, ≈ 2·eps
    return grad.view(x64.shape)


def check_gradients(f, *inputs, analytic=None, eps: float = 1e-6, max_samples: int | None = 1000, seed: int = 0,
                    names=None, tiny: float | None = None) -> GradcheckReport:
    """Check the gradient of a scalar function ``f(*inputs)`` w.r.t. every floating-point input.

    ``analytic``: ``None`` uses torch autograd on the float64 copies; a callable is called as
    ``analytic(*inputs)`` (float64 copies) and returns one gradient per input, in order (a lone
    tensor for the first input is fine; ``None`` skips an input); a sequence of tensors is used
    as given.  Non-float inputs (integer labels, Python numbers) are passed through unchecked.
    Tensors with more than ``max_samples`` elements are checked on a seeded random sample.
    """
    names = names_from(f, len(inputs), names)
    f32 = [nm for nm, t in zip(names, inputs) if is_checkable(t) and t.dtype == torch.float32]
    note32 = float32_note(f32)
    xs = [to64(t) if is_checkable(t) else t for t in inputs]
    idx = [i for i, t in enumerate(xs) if is_checkable(t)]

    if analytic is None:
        leaves = [xs[i].clone().requires_grad_(True) for i in idx]
        args = list(xs)
        for i, leaf in zip(idx, leaves):
            args[i] = leaf
        with fixed_rng(seed, xs):
            y = f(*args)
        if not isinstance(y, torch.Tensor) or y.numel() != 1:
            raise ValueError(f"check_gradients needs f to return a scalar tensor; got {type(y).__name__} "
                             f"{tuple(getattr(y, 'shape', ()))}. Reduce the output (e.g. .sum()).")
        if not y.requires_grad:
            raise ValueError("f's result does not depend on any input through autograd (no backward graph); "
                             "pass analytic=... with your own gradients.")
        got = torch.autograd.grad(y.reshape(()), leaves, allow_unused=True)
        grads = [None] * len(xs)
        for i, g in zip(idx, got):
            grads[i] = torch.zeros_like(xs[i]) if g is None else g.detach()
    elif callable(analytic):
        grads = align(analytic(*[t.clone() if is_checkable(t) else t for t in xs]), xs, "analytic")
    else:
        grads = align(analytic, xs, "analytic")

    targets, expected = [], []
    for i in idx:
        if grads[i] is None:
            continue
        if tuple(grads[i].shape) != tuple(xs[i].shape):
            raise ValueError(f"the analytic gradient of {names[i]} has shape {tuple(grads[i].shape)}; "
                             f"expected {tuple(xs[i].shape)} (the shape of {names[i]}).")
        targets.append((names[i], xs[i]))
        expected.append(grads[i])
    checks, notes = compare(lambda: f(*xs), targets, expected, dout=None, eps=eps, max_samples=max_samples,
                             seed=seed, tiny=tiny, rng_tensors=xs)
    return GradcheckReport(f"of {fn_name(f)}", checks, eps, ([note32] if note32 else []) + notes)


def check_module_gradients(module: torch.nn.Module, *inputs, loss_fn=None, check_inputs: bool = False,
                           eps: float = 1e-6, max_samples: int | None = 1000, seed: int = 0,
                           tiny: float | None = None) -> GradcheckReport:
    """Check autograd's gradients of an ``nn.Module``'s parameters (and optionally its inputs).

    The module is deep-copied and converted to float64; the original is untouched.  The scalar
    checked is ``loss_fn(module(*inputs))``, or ``Σ out ⊙ dout`` with a seeded random ``dout``
    when ``loss_fn`` is None.  The module runs in its current mode (train/eval); random layers
    are repeatable because every evaluation reseeds torch.
    """
    f32 = [f"the parameters of {type(module).__name__}"] if any(
        p.dtype == torch.float32 for p in module.parameters()) else []
    f32 += [f"input{i}" for i, t in enumerate(inputs) if is_checkable(t) and t.dtype == torch.float32]
    note32 = float32_note(f32, plural=bool(f32) and f32[0].startswith("the parameters"))
    m = copy.deepcopy(module).double()
    xs = [to64(t) if is_checkable(t) else t for t in inputs]
    params = [(n, p) for n, p in m.named_parameters() if p.requires_grad]
    for _, p in params:
        if not p.is_contiguous():
            p.data = p.data.contiguous()
    in_targets = [(f"input{i}", t) for i, t in enumerate(xs) if check_inputs and is_checkable(t)]

    dout = None
    if loss_fn is None:
        with torch.no_grad(), fixed_rng(seed, xs):
            out0 = m(*xs)
        dout = torch.randn(out0.shape, generator=torch.Generator().manual_seed(seed + 1), dtype=torch.float64)
        dout = dout.to(out0.device)

    def scalar(out):
        return (out * dout).sum() if loss_fn is None else loss_fn(out)

    leaves = [t.requires_grad_(True) for _, t in in_targets]
    m.zero_grad(set_to_none=True)
    with fixed_rng(seed, xs):
        y = scalar(m(*xs))
    wrt = [p for _, p in params] + leaves
    got = torch.autograd.grad(y, wrt, allow_unused=True)
    expected = [torch.zeros_like(t) if g is None else g.detach() for t, g in zip(wrt, got)]
    for t in leaves:
        t.requires_grad_(False)
    targets = [(n, p.data) for n, p in params] + in_targets

    if loss_fn is None:
        checks, notes = compare(lambda: m(*xs), targets, expected, dout=dout, eps=eps, max_samples=max_samples,
                                 seed=seed, tiny=tiny, rng_tensors=xs)
    else:
        checks, notes = compare(lambda: loss_fn(m(*xs)), targets, expected, dout=None, eps=eps,
                                 max_samples=max_samples, seed=seed, tiny=tiny, rng_tensors=xs)
    return GradcheckReport(f"of {type(module).__name__}", checks, eps, ([note32] if note32 else []) + notes)


def _pair_probes(forward, xs, kwargs, eps) -> list[str]:
    """Named kink warnings for the scratch pairs whose kinks we know (ReLU at 0, max-pool ties)."""
    from course.scratch import activations, pool

    notes = []
    if forward is activations.relu_forward and is_checkable(xs[0]):
        near = int((xs[0].abs() <= eps).sum())
        if near:
            notes.append(f"{near} ReLU input(s) lie within eps={eps:g} of 0, the kink: the numerical gradient there "
                         "averages the slopes 0 and 1.")
    if forward is pool.max_pool2d_forward and is_checkable(xs[0]):
        x = xs[0]
        gaps = []
        for p, q in ((0, 1), (1, 0)):  # neighbouring pairs that can share a window
            a = x[:, p:, q:, :]
            b = x[:, : x.shape[1] - p, : x.shape[2] - q, :]
            gaps.append(int(((a - b).abs() <= 2 * eps).sum()))
        if sum(gaps):
            notes.append(f"{sum(gaps)} pair(s) of neighbouring max-pool inputs are tied within 2·eps={2 * eps:g}: "
                         "where they share a window the maximum switches under the perturbation (a kink). The "
                         "backward sends a tie's gradient to the first maximum only.")
    for msg in notes:
        warn(msg)
    return notes


def check_scratch_pair(forward, backward, *inputs, eps: float = 1e-6, max_samples: int | None = 1000,
                       seed: int = 0, names=None, tiny: float | None = None, **kwargs) -> GradcheckReport:
    """Check a from-scratch pair ``out, cache = forward(*inputs, **kwargs)`` /
    ``grads = backward(dout, cache)`` against numerical derivatives.

    A seeded random ``dout`` turns the forward into the scalar f = Σ out ⊙ dout, whose gradient
    w.r.t. each input is exactly what ``backward(dout, cache)`` must return.  The backward's
    results are matched to the inputs by position (a lone tensor is the first input's gradient;
    ``None`` and non-float inputs such as a dropout rate are skipped).  Keyword arguments go to
    the forward (``strides=2, padding="SAME"``).
    """
    names = names_from(forward, len(inputs), names)
    f32 = [nm for nm, t in zip(names, inputs) if is_checkable(t) and t.dtype == torch.float32]
    note32 = float32_note(f32)
    xs = [to64(t) if is_checkable(t) else t for t in inputs]
    with torch.no_grad(), fixed_rng(seed, xs):
        out, cache = forward(*[t.clone() if is_checkable(t) else t for t in xs], **kwargs)
    dout = torch.randn(out.shape, generator=torch.Generator().manual_seed(seed + 1), dtype=torch.float64)
    dout = dout.to(out.device)
    grads = align(backward(dout.clone(), cache), xs, fn_name(backward))
    targets, expected = [], []
    for nm, t, g in zip(names, xs, grads):
        if is_checkable(t) and g is not None:
            if tuple(g.shape) != tuple(t.shape):
                raise ValueError(f"{fn_name(backward)} returned d{nm} of shape {tuple(g.shape)}; "
                                 f"expected {tuple(t.shape)} (the shape of {nm}).")
            targets.append((nm, t))
            expected.append(g)
    probes = _pair_probes(forward, xs, kwargs, eps)
    checks, notes = compare(lambda: forward(*xs, **kwargs)[0], targets, expected, dout=dout, eps=eps,
                             max_samples=max_samples, seed=seed, tiny=tiny, rng_tensors=xs)
    return GradcheckReport(f"{fn_name(forward)}/{fn_name(backward)}", checks, eps,
                           ([note32] if note32 else []) + probes + notes)


def check_scratch_loss(loss_fn, pred: torch.Tensor, *args, eps: float = 1e-6, max_samples: int | None = 1000,
                       seed: int = 0, tiny: float | None = None, **kwargs) -> GradcheckReport:
    """Check a scratch loss ``loss, dpred = loss_fn(pred, *args, **kwargs)``: is dpred = ∂loss/∂pred?"""
    name = names_from(loss_fn, 1)[0]
    report = check_gradients(lambda p: loss_fn(p, *args, **kwargs)[0], pred,
                             analytic=lambda p: loss_fn(p, *args, **kwargs)[1],
                             eps=eps, max_samples=max_samples, seed=seed, names=[name], tiny=tiny)
    report.what = f"of {fn_name(loss_fn)}"
    return report
