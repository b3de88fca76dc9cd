"""The numerical engine of a gradient check: centred differences on float64 copies, with kink detection
and repeatable randomness (see course.gradcheck for the method)."""

from __future__ import annotations

import contextlib
import inspect
import sys
import warnings

import torch

from course.gradcheck.report import EPS64, FLOAT32_WHY, GOOD, NOISE_ULPS, WRONG, GradcheckWarning, TensorCheck

@contextlib.contextmanager
def fixed_rng(seed: int, tensors):
    """Reseed torch's generators (CPU and the devices of `tensors`) for one evaluation of f."""
    devices = sorted({t.device.index or 0 for t in tensors if isinstance(t, torch.Tensor) and t.is_cuda})
    with torch.random.fork_rng(devices=devices):
        torch.default_generator.manual_seed(seed)  # not torch.manual_seed: it queues lazy CUDA calls
        for d in devices:
            torch.cuda.default_generators[d].manual_seed(seed)
        yield


@contextlib.contextmanager
def one_thread():
    """Numerical checks run f thousands of times on small tensors, where waking a pool of CPU
    threads costs more than the work; use one thread meanwhile, then restore the setting."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def unravel(k: int, shape) -> tuple:
    index = []
    for s in reversed(tuple(shape)):
        k, r = divmod(k, s)
        index.append(r)
    return tuple(reversed(index))


def to64(t: torch.Tensor) -> torch.Tensor:
    return t.detach().to(torch.float64, copy=True).contiguous()


def warn(msg: str) -> None:
    """Warn at the first caller outside this module (the user's line)."""
    level, frame = 2, sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__") == __name__:
        frame, level = frame.f_back, level + 1
    warnings.warn(msg, GradcheckWarning, stacklevel=level)


def float32_note(names, plural: bool = False) -> str | None:
    if not names:
        return None
    verb = "are" if plural or len(names) > 1 else "is"
    msg = f"{', '.join(names)} {verb} float32; {FLOAT32_WHY}"
    warn(msg)
    return msg


def compare(evaluate, targets, analytic, *, dout, eps, max_samples, seed, tiny, rng_tensors):
    """Compare `analytic` with centred differences of `evaluate()` w.r.t. each target, in place.

    targets: [(name, float64 tensor perturbed in place)]; analytic: matching float64 tensors.
    dout None: evaluate() is a scalar f.  Otherwise f = Σ dout ⊙ evaluate(), differenced per output
    so that outputs a perturbation does not reach cancel exactly.
    """
    def run():
        with fixed_rng(seed, rng_tensors), torch.no_grad():
            v = evaluate()
        if not isinstance(v, torch.Tensor):
            v = torch.as_tensor(v, dtype=torch.float64)
        if dout is None and v.numel() != 1:
            raise ValueError(f"the checked function must return a scalar; got shape {tuple(v.shape)}. "
                             "Reduce it (e.g. .sum()), or use check_scratch_pair for a forward function.")
        return v.detach().to(torch.float64, copy=True)  # a copy: the output may be a view of an input

    with one_thread():
        return compare_loop(run, targets, analytic, dout=dout, eps=eps, max_samples=max_samples, seed=seed,
                             tiny=tiny)


def compare_loop(run, targets, analytic, *, dout, eps, max_samples, seed, tiny):
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
            noise_list.append(NOISE_ULPS * EPS64 * size / step)  # rounding noise of n_i
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
            index=unravel(picks[w], x.shape) if w is not None else None,
            analytic=float(a_s[w]) if w is not None else 0.0, numeric=float(n[w]) if w is not None else 0.0,
            floor=float(floor[w]) if w is not None else 0.0, status=status, kinks=nk,
            kink_index=unravel(picks[int(kink.nonzero()[0])], x.shape) if nk else None,
        ))
    notes = []
    if kink_total:
        where = "; ".join(f"{c.name}: {c.kinks}, first at {c.name}{list(c.kink_index)}" for c in checks if c.kinks)
        msg = (f"{kink_total} element(s) straddle a kink within eps={eps:g} (one-sided differences disagree): {where}. "
               "Typical causes: a ReLU input within eps of 0, a max-pool tie, a hinge at its margin. Their mismatch "
               "is explained by the kink, so they are left out of the verdict.")
        warn(msg)
        notes.append(msg)
    return checks, notes


def names_from(fn, count: int, given=None) -> list[str]:
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


def is_checkable(t) -> bool:
    return isinstance(t, torch.Tensor) and t.is_floating_point()


def fn_name(fn) -> str:
    return getattr(fn, "__name__", type(fn).__name__)


def align(grads, inputs, what: str):
    """Backward/analytic results -> a list aligned with `inputs` (a lone tensor counts as a 1-tuple)."""
    if isinstance(grads, torch.Tensor) or grads is None:
        grads = (grads,)
    grads = list(grads)
    while len(grads) > len(inputs) and grads[-1] is None:  # e.g. db = None for a conv without bias
        grads.pop()
    if len(grads) > len(inputs):
        raise ValueError(f"{what} returned {len(grads)} gradients for {len(inputs)} inputs.")
    return grads + [None] * (len(inputs) - len(grads))
