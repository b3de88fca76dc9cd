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

__all__ = [
    "GOOD", "WRONG", "KINK_OK",
    "GradcheckWarning", "TensorCheck", "GradcheckReport",
    "numerical_gradient", "check_gradients", "check_module_gradients", "check_scratch_pair", "check_scratch_loss",
]

GOOD = 1e-7  # r ≤ GOOD: pass
KINK_OK = 1e-4  # GOOD < r ≤ KINK_OK: acceptable only for functions with kinks
WRONG = 1e-2  # r > WRONG: wrong
_EPS64 = torch.finfo(torch.float64).eps  # 2.2e-16
_NOISE_ULPS = 8  # rounding allowed per differenced value, in units of its last place (generous on purpose)

_FLOAT32_WHY = (
    "checked on float64 copies: a centred difference in float32 cannot resolve gradients "
    "(rounding ~1.2e-7·|f| divided by 2·eps swamps the result for small eps, truncation error "
    "grows for large eps; nothing better than ~1e-3 relative). The check verifies the maths, "
    "not float32 rounding in your code."
)


class GradcheckWarning(UserWarning):
    """A gradient check found something to be careful about (float32 inputs, kinks)."""


# ----------------------------------------------------------------------------------------------
# Report
# ----------------------------------------------------------------------------------------------

@dataclass
class TensorCheck:
    """The comparison for one tensor: its worst element and the verdict."""

    name: str
    shape: tuple
    checked: int  # elements compared (all, or a seeded sample of max_samples)
    total: int
    max_rel_error: float  # over elements not excused by a kink
    index: tuple | None  # worst element
    analytic: float  # a at the worst element
    numeric: float  # n at the worst element
    floor: float  # the denominator floor at the worst element
    status: str  # "pass" | "suspicious" | "wrong"
    kinks: int = 0  # elements whose mismatch a kink explains (left out of the verdict)
    kink_index: tuple | None = None

    @property
    def ok(self) -> bool:
        return self.status == "pass"


def _verdict_text(c: TensorCheck) -> str:
    if c.status == "pass":
        return ""
    where = f"{c.name}{list(c.index)}" if c.index is not None else c.name
    if c.status == "wrong":
        return (f"{c.name}: WRONG -- at {where} the analytic gradient is {c.analytic:.6g} but the numerical one is "
                f"{c.numeric:.6g} (relative error {c.max_rel_error:.1e} > {WRONG:.0e}). Check this gradient's "
                "formula: a missing transpose, a factor, a sum over the wrong axis, a padding offset.")
    if c.checked == c.kinks:
        return f"{c.name}: suspicious -- every checked element straddles a kink; move the inputs away from the kinks."
    hint = ("normal only if the function has kinks (ReLU, max, hinge) near these inputs"
            if c.max_rel_error <= KINK_OK else "probably a bug")
    return (f"{c.name}: suspicious -- at {where} analytic {c.analytic:.6g} vs numerical {c.numeric:.6g} "
            f"(relative error {c.max_rel_error:.1e}); {hint}.")


@dataclass
class GradcheckReport:
    """Result of a gradient check; ``.ok`` is True when every tensor passes.

    Print it (or show it in a notebook) for a per-tensor table; ``report[name]`` gives one
    :class:`TensorCheck`; ``report.failed`` lists the names that did not pass.
    """

    what: str
    checks: list[TensorCheck]
    eps: float
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def failed(self) -> list[str]:
        return [c.name for c in self.checks if not c.ok]

    def __getitem__(self, name: str) -> TensorCheck:
        for c in self.checks:
            if c.name == name:
                return c
        raise KeyError(f"no tensor named {name!r} in this report; it has {[c.name for c in self.checks]}.")

    def assert_ok(self) -> "GradcheckReport":
        """Raise ``AssertionError`` with the full report unless every tensor passes."""
        if not self.ok:
            raise AssertionError("\n" + str(self))
        return self

    def _rows(self):
        for c in self.checks:
            yield (c.name, str(tuple(c.shape)), f"{c.checked}/{c.total}", f"{c.max_rel_error:.1e}",
                   "" if c.index is None else str(tuple(c.index)), f"{c.analytic:.6g}", f"{c.numeric:.6g}",
                   str(c.kinks) if c.kinks else "", c.status if c.status == "pass" else c.status.upper())

    _HEAD = ("tensor", "shape", "checked", "max rel err", "worst at", "analytic", "numerical", "kinks", "verdict")

    def __str__(self) -> str:
        rows = [self._HEAD, *self._rows()]
        widths = [max(len(r[i]) for r in rows) for i in range(len(self._HEAD))]
        lines = [f"gradcheck {self.what}: {'ok' if self.ok else 'FAILED'} (eps={self.eps:g}, float64)"]
        lines += ["  " + "  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip() for r in rows]
        lines += ["  " + _verdict_text(c) for c in self.checks if not c.ok]
        lines += ["  note: " + n for n in self.notes]
        lines.append(f"  relative error |a-n|/max(|a|,|n|,floor): pass <= {GOOD:.0e}; suspicious up to {WRONG:.0e} "
                     f"(<= {KINK_OK:.0e} is normal only at kinks); wrong above {WRONG:.0e}.")
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_pretty_(self, p, cycle):
        p.text(str(self))

    def _repr_html_(self) -> str:
        colour = {"pass": "#1a7f37", "suspicious": "#9a6700", "wrong": "#cf222e"}
        head = "".join(f"<th>{h}</th>" for h in self._HEAD)
        body = ""
        for c, row in zip(self.checks, self._rows()):
            cells = "".join(f"<td>{html.escape(v)}</td>" for v in row[:-1])
            cells += f'<td style="color:{colour[c.status]};font-weight:bold">{row[-1]}</td>'
            body += f"<tr>{cells}</tr>"
        extra = "".join(f"<li>{html.escape(t)}</li>" for t in [_verdict_text(c) for c in self.checks if not c.ok])
        extra += "".join(f"<li>note: {html.escape(n)}</li>" for n in self.notes)
        title = f"gradcheck {html.escape(self.what)}: <b>{'ok' if self.ok else 'FAILED'}</b> (eps={self.eps:g}, float64)"
        legend = (f"relative error |a−n|/max(|a|,|n|,floor): pass ≤ {GOOD:.0e}; suspicious up to {WRONG:.0e} "
                  f"(≤ {KINK_OK:.0e} is normal only at kinks); wrong above {WRONG:.0e}.")
        return (f"<div><p>{title}</p><table><tr>{head}</tr>{body}</table>"
                f"{'<ul>' + extra + '</ul>' if extra else ''}<p><small>{legend}</small></p></div>")


# ----------------------------------------------------------------------------------------------
# The numerical engine
# ----------------------------------------------------------------------------------------------

@contextlib.contextmanager
def _fixed_rng(seed: int, tensors):
    """Reseed torch's generators (CPU and the devices of `tensors`) for one evaluation of f."""
    devices = sorted({t.device.index or 0 for t in tensors if isinstance(t, torch.Tensor) and t.is_cuda})
    with torch.random.fork_rng(devices=devices):
        torch.default_generator.manual_seed(seed)  # not torch.manual_seed: it queues lazy CUDA calls
        for d in devices:
            torch.cuda.default_generators[d].manual_seed(seed)
        yield


@contextlib.contextmanager
def _one_thread():
    """Numerical checks run f thousands of times on small tensors, where waking a pool of CPU
    threads costs more than the work; use one thread meanwhile, then restore the setting."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def _unravel(k: int, shape) -> tuple:
    index = []
    for s in reversed(tuple(shape)):
        k, r = divmod(k, s)
        index.append(r)
    return tuple(reversed(index))


def _to64(t: torch.Tensor) -> torch.Tensor:
    return t.detach().to(torch.float64, copy=True).contiguous()


def _warn(msg: str) -> None:
    """Warn at the first caller outside this module (the user's line)."""
    level, frame = 2, sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__") == __name__:
        frame, level = frame.f_back, level + 1
    warnings.warn(msg, GradcheckWarning, stacklevel=level)


def _float32_note(names, plural: bool = False) -> str | None:
    if not names:
        return None
    verb = "are" if plural or len(names) > 1 else "is"
    msg = f"{', '.join(names)} {verb} float32; {_FLOAT32_WHY}"
    _warn(msg)
    return msg


def _compare(evaluate, targets, analytic, *, dout, eps, max_samples, seed, tiny, rng_tensors):
    """Compare `analytic` with centred differences of `evaluate()` w.r.t. each target, in place.

    targets: [(name, float64 tensor perturbed in place)]; analytic: matching float64 tensors.
    dout None: evaluate() is a scalar f.  Otherwise f = Σ dout ⊙ evaluate(), differenced per output
    so that outputs a perturbation does not reach cancel exactly.
    """
    def run():
        with _fixed_rng(seed, rng_tensors), torch.no_grad():
            v = evaluate()
        if not isinstance(v, torch.Tensor):
            v = torch.as_tensor(v, dtype=torch.float64)
        if dout is None and v.numel() != 1:
            raise ValueError(f"the checked function must return a scalar; got shape {tuple(v.shape)}. "
                             "Reduce it (e.g. .sum()), or use check_scratch_pair for a forward function.")
        return v.detach().to(torch.float64, copy=True)  # a copy: the output may be a view of an input

    with _one_thread():
        return _compare_loop(run, targets, analytic, dout=dout, eps=eps, max_samples=max_samples, seed=seed,
                             tiny=tiny)


def _compare_loop(run, targets, analytic, *, dout, eps, max_samples, seed, tiny):
    v0 = run()
    if dout is not None and v0.shape != dout.shape:
        raise ValueError(f"the forward returned shape {tuple(v0.shape)} but dout has {tuple(dout.shape)}.")
    gen = torch.Generator().manual_seed(seed)
    checks, kink_total = [], 0
    for (name, x), a in zip(targets, analytic):
        a = a.detach().to(torch.float64).reshape(-1).cpu()
        flat = x.view(-1)
        total = flat.numel()
        if max_samples is not None and total > max_samples:
            picks = torch.randperm(total, generator=gen)[:max_samples].sort().values.tolist()
        else:
            picks = range(total)
        n_list, d_list, noise_list = [], [], []
        for k in picks:
            x0 = flat[k].item()
            flat[k] = x0 + eps
            vp = run()
            flat[k] = x0 - eps
            vm = run()
            flat[k] = x0
            step = (x0 + eps) - (x0 - eps)  # the step actually taken, ≈ 2·eps
            if dout is None:
                diff, curv = (vp - vm).reshape(()), (vp - 2 * v0 + vm).reshape(())
                size = vp.abs() + vm.abs()
            else:
                moved = vp != vm
                diff, curv = (dout * (vp - vm)).sum(), (dout * (vp - 2 * v0 + vm)).sum()
                size = (dout.abs() * (vp.abs() + vm.abs()) * moved).sum()
            n_list.append(diff / step)
            d_list.append(curv / (step / 2))  # D = (f₊ − 2f₀ + f₋)/h
            noise_list.append(_NOISE_ULPS * _EPS64 * size / step)  # rounding noise of n_i
        picks = list(picks)
        n = torch.stack(n_list).reshape(-1).cpu() if picks else torch.zeros(0, dtype=torch.float64)
        d = torch.stack(d_list).reshape(-1).cpu() if picks else torch.zeros(0, dtype=torch.float64)
        noise = torch.stack(noise_list).reshape(-1).cpu() if picks else torch.zeros(0, dtype=torch.float64)
        a_s = a[torch.tensor(picks, dtype=torch.long)] if picks else a[:0]
        floor = torch.full_like(n, float(tiny)) if tiny is not None else torch.clamp(noise / GOOD, min=1e-30)
        gap = (a_s - n).abs()
        rel = gap / torch.maximum(torch.maximum(a_s.abs(), n.abs()), floor)
        kink = (rel > GOOD) & (gap <= 0.5 * d.abs() * 1.01 + noise)
        judged = ~kink
        if judged.any():
            masked = torch.where(judged, rel, torch.full_like(rel, -1.0))
            w = int(masked.argmax())
            worst = float(rel[w])
            status = "pass" if worst <= GOOD else ("suspicious" if worst <= WRONG else "wrong")
        else:  # nothing judged: no elements, or every one at a kink
            w = int(rel.argmax()) if len(picks) else None
            worst = 0.0
            status = "pass" if not len(picks) else "suspicious"
        nk = int(kink.sum())
        kink_total += nk
        checks.append(TensorCheck(
            name=name, shape=tuple(x.shape), checked=len(picks), total=total, max_rel_error=worst,
            index=_unravel(picks[w], x.shape) if w is not None else None,
            analytic=float(a_s[w]) if w is not None else 0.0, numeric=float(n[w]) if w is not None else 0.0,
            floor=float(floor[w]) if w is not None else 0.0, status=status, kinks=nk,
            kink_index=_unravel(picks[int(kink.nonzero()[0])], x.shape) if nk else None,
        ))
    notes = []
    if kink_total:
        where = "; ".join(f"{c.name}: {c.kinks}, first at {c.name}{list(c.kink_index)}" for c in checks if c.kinks)
        msg = (f"{kink_total} element(s) straddle a kink within eps={eps:g} (one-sided differences disagree): {where}. "
               "Typical causes: a ReLU input within eps of 0, a max-pool tie, a hinge at its margin. Their mismatch "
               "is explained by the kink, so they are left out of the verdict.")
        _warn(msg)
        notes.append(msg)
    return checks, notes


def _names_from(fn, count: int, given=None) -> list[str]:
    if given is not None:
        if len(given) != count:
            raise ValueError(f"names must give one name per input ({count}); got {list(given)}.")
        return list(given)
    try:
        params = [p for p in inspect.signature(fn).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        if len(params) >= count:
            return [p.name for p in params[:count]]
        if any(p.kind == p.VAR_POSITIONAL for p in inspect.signature(fn).parameters.values()):
            return [p.name for p in params] + [f"input{i}" for i in range(len(params), count)]
    except (TypeError, ValueError):
        pass
    return [f"input{i}" for i in range(count)]


def _is_checkable(t) -> bool:
    return isinstance(t, torch.Tensor) and t.is_floating_point()


def _fn_name(fn) -> str:
    return getattr(fn, "__name__", type(fn).__name__)


def _align(grads, inputs, what: str):
    """Backward/analytic results -> a list aligned with `inputs` (a lone tensor counts as a 1-tuple)."""
    if isinstance(grads, torch.Tensor) or grads is None:
        grads = (grads,)
    grads = list(grads)
    while len(grads) > len(inputs) and grads[-1] is None:  # e.g. db = None for a conv without bias
        grads.pop()
    if len(grads) > len(inputs):
        raise ValueError(f"{what} returned {len(grads)} gradients for {len(inputs)} inputs.")
    return grads + [None] * (len(inputs) - len(grads))


# ----------------------------------------------------------------------------------------------
# Entry points
# ----------------------------------------------------------------------------------------------

def numerical_gradient(f, x: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    r"""Centred-difference gradient of a scalar function: n_i = (f(x + h·e_i) − f(x − h·e_i)) / 2h.

    ``x`` is copied to float64 (a warning explains why float32 is not enough); ``f`` receives that
    copy, perturbed one element at a time, and must return a scalar.  Returns a float64 tensor
    shaped like ``x``.  Every element costs two evaluations of f.
    """
    if not _is_checkable(x):
        raise TypeError(f"numerical_gradient needs a floating-point tensor; got {type(x).__name__} "
                        f"{getattr(x, 'dtype', '')}.")
    if x.dtype == torch.float32:
        _float32_note(["x"])
    x64 = _to64(x)
    flat = x64.view(-1)
    grad = torch.empty_like(flat)
    with _one_thread(), torch.no_grad():
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
    names = _names_from(f, len(inputs), names)
    f32 = [nm for nm, t in zip(names, inputs) if _is_checkable(t) and t.dtype == torch.float32]
    note32 = _float32_note(f32)
    xs = [_to64(t) if _is_checkable(t) else t for t in inputs]
    idx = [i for i, t in enumerate(xs) if _is_checkable(t)]

    if analytic is None:
        leaves = [xs[i].clone().requires_grad_(True) for i in idx]
        args = list(xs)
        for i, leaf in zip(idx, leaves):
            args[i] = leaf
        with _fixed_rng(seed, xs):
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
        grads = _align(analytic(*[t.clone() if _is_checkable(t) else t for t in xs]), xs, "analytic")
    else:
        grads = _align(analytic, xs, "analytic")

    targets, expected = [], []
    for i in idx:
        if grads[i] is None:
            continue
        if tuple(grads[i].shape) != tuple(xs[i].shape):
            raise ValueError(f"the analytic gradient of {names[i]} has shape {tuple(grads[i].shape)}; "
                             f"expected {tuple(xs[i].shape)} (the shape of {names[i]}).")
        targets.append((names[i], xs[i]))
        expected.append(grads[i])
    checks, notes = _compare(lambda: f(*xs), targets, expected, dout=None, eps=eps, max_samples=max_samples,
                             seed=seed, tiny=tiny, rng_tensors=xs)
    return GradcheckReport(f"of {_fn_name(f)}", checks, eps, ([note32] if note32 else []) + notes)


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
    f32 += [f"input{i}" for i, t in enumerate(inputs) if _is_checkable(t) and t.dtype == torch.float32]
    note32 = _float32_note(f32, plural=bool(f32) and f32[0].startswith("the parameters"))
    m = copy.deepcopy(module).double()
    xs = [_to64(t) if _is_checkable(t) else t for t in inputs]
    params = [(n, p) for n, p in m.named_parameters() if p.requires_grad]
    for _, p in params:
        if not p.is_contiguous():
            p.data = p.data.contiguous()
    in_targets = [(f"input{i}", t) for i, t in enumerate(xs) if check_inputs and _is_checkable(t)]

    dout = None
    if loss_fn is None:
        with torch.no_grad(), _fixed_rng(seed, xs):
            out0 = m(*xs)
        dout = torch.randn(out0.shape, generator=torch.Generator().manual_seed(seed + 1), dtype=torch.float64)
        dout = dout.to(out0.device)

    def scalar(out):
        return (out * dout).sum() if loss_fn is None else loss_fn(out)

    leaves = [t.requires_grad_(True) for _, t in in_targets]
    m.zero_grad(set_to_none=True)
    with _fixed_rng(seed, xs):
        y = scalar(m(*xs))
    wrt = [p for _, p in params] + leaves
    got = torch.autograd.grad(y, wrt, allow_unused=True)
    expected = [torch.zeros_like(t) if g is None else g.detach() for t, g in zip(wrt, got)]
    for t in leaves:
        t.requires_grad_(False)
    targets = [(n, p.data) for n, p in params] + in_targets

    if loss_fn is None:
        checks, notes = _compare(lambda: m(*xs), targets, expected, dout=dout, eps=eps, max_samples=max_samples,
                                 seed=seed, tiny=tiny, rng_tensors=xs)
    else:
        checks, notes = _compare(lambda: loss_fn(m(*xs)), targets, expected, dout=None, eps=eps,
                                 max_samples=max_samples, seed=seed, tiny=tiny, rng_tensors=xs)
    return GradcheckReport(f"of {type(module).__name__}", checks, eps, ([note32] if note32 else []) + notes)


def _pair_probes(forward, xs, kwargs, eps) -> list[str]:
    """Named kink warnings for the scratch pairs whose kinks we know (ReLU at 0, max-pool ties)."""
    from course.scratch import activations, pool

    notes = []
    if forward is activations.relu_forward and _is_checkable(xs[0]):
        near = int((xs[0].abs() <= eps).sum())
        if near:
            notes.append(f"{near} ReLU input(s) lie within eps={eps:g} of 0, the kink: the numerical gradient there "
                         "averages the slopes 0 and 1.")
    if forward is pool.max_pool2d_forward and _is_checkable(xs[0]):
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
        _warn(msg)
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
    names = _names_from(forward, len(inputs), names)
    f32 = [nm for nm, t in zip(names, inputs) if _is_checkable(t) and t.dtype == torch.float32]
    note32 = _float32_note(f32)
    xs = [_to64(t) if _is_checkable(t) else t for t in inputs]
    with torch.no_grad(), _fixed_rng(seed, xs):
        out, cache = forward(*[t.clone() if _is_checkable(t) else t for t in xs], **kwargs)
    dout = torch.randn(out.shape, generator=torch.Generator().manual_seed(seed + 1), dtype=torch.float64)
    dout = dout.to(out.device)
    grads = _align(backward(dout.clone(), cache), xs, _fn_name(backward))
    targets, expected = [], []
    for nm, t, g in zip(names, xs, grads):
        if _is_checkable(t) and g is not None:
            if tuple(g.shape) != tuple(t.shape):
                raise ValueError(f"{_fn_name(backward)} returned d{nm} of shape {tuple(g.shape)}; "
                                 f"expected {tuple(t.shape)} (the shape of {nm}).")
            targets.append((nm, t))
            expected.append(g)
    probes = _pair_probes(forward, xs, kwargs, eps)
    checks, notes = _compare(lambda: forward(*xs, **kwargs)[0], targets, expected, dout=dout, eps=eps,
                             max_samples=max_samples, seed=seed, tiny=tiny, rng_tensors=xs)
    return GradcheckReport(f"{_fn_name(forward)}/{_fn_name(backward)}", checks, eps,
                           ([note32] if note32 else []) + probes + notes)


def check_scratch_loss(loss_fn, pred: torch.Tensor, *args, eps: float = 1e-6, max_samples: int | None = 1000,
                       seed: int = 0, tiny: float | None = None, **kwargs) -> GradcheckReport:
    """Check a scratch loss ``loss, dpred = loss_fn(pred, *args, **kwargs)``: is dpred = ∂loss/∂pred?"""
    name = _names_from(loss_fn, 1)[0]
    report = check_gradients(lambda p: loss_fn(p, *args, **kwargs)[0], pred,
                             analytic=lambda p: loss_fn(p, *args, **kwargs)[1],
                             eps=eps, max_samples=max_samples, seed=seed, names=[name], tiny=tiny)
    report.what = f"of {_fn_name(loss_fn)}"
    return report
