"""What an optimisation buys: file size, CPU latency and test accuracy, measured the same way for all.

- size: the bytes of `torch.save(state_dict)` (what a checkpoint of the weights takes on disk),
  and the same bytes compressed with zlib (what pruning's zeros save once stored compressed);
- latency: the best of repeated wall times of one forward pass under `torch.inference_mode()`,
  on the CPU with `threads` threads, for a single image (serving one request) and for a batch
  of 256;
- accuracy: top-1 on the test set.

Any model goes: a course.keras model (its inference pass), a PyTorch twin, a quantised module.
"""
from __future__ import annotations

import io
import time
import zlib
from dataclasses import dataclass

import torch

from course.framework.convert import as_plain

__all__ = ["Measurement", "file_size", "latency", "accuracy", "measure", "table"]


@dataclass
class Measurement:
    """One row of the results table."""
    name: str
    size_bytes: int
    zipped_bytes: int
    latency_1_ms: float
    latency_256_ms: float
    accuracy: float
    sparsity: float = 0.0

    def as_row(self, baseline: "Measurement | None" = None) -> list[str]:
        mb = 2 ** 20
        ratio = f" ({baseline.size_bytes / self.size_bytes:.1f}x)" if baseline and baseline is not self else ""
        delta = f" ({100 * (self.accuracy - baseline.accuracy):+.2f})" if baseline and baseline is not self else ""
        return [self.name, f"{self.size_bytes / mb:.2f}{ratio}", f"{self.zipped_bytes / mb:.2f}",
                f"{100 * self.sparsity:.0f}%", f"{self.latency_1_ms:.3f}", f"{self.latency_256_ms:.1f}",
                f"{100 * self.accuracy:.2f}{delta}"]


def _module(model):
    from course.export import inference_module
    return inference_module(model)


def _plain_state(module):
    state = {}
    for k, v in module.state_dict().items():
        state[k] = as_plain(v)
    return state


def file_size(model) -> tuple[int, int]:
    """(bytes of torch.save(state_dict), the same bytes zlib-compressed at level 6)."""
    buf = io.BytesIO()
    torch.save(_plain_state(model), buf)
    raw = buf.getvalue()
    return len(raw), len(zlib.compress(raw, 6))


def latency(model, x, *, repeats: int = 30, warmup: int = 3, threads: int | None = 1) -> float:
    """Best-of-`repeats` seconds of `model(x)` (inference mode, CPU, `threads` threads; None:
    torch's setting). The minimum, as `timeit` advises: other processes only ever add time."""
    module = _module(model)
    x = x.cpu() if isinstance(x, torch.Tensor) else torch.as_tensor(x)
    saved = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        times = []
        with torch.inference_mode():
            for i in range(warmup + repeats):
                start = time.perf_counter()
                module(x)
                if i >= warmup:
                    times.append(time.perf_counter() - start)
    finally:
        torch.set_num_threads(saved)
    return min(times)


def accuracy(model, x, y, *, batch_size: int = 1000) -> float:
    """Top-1 accuracy of `model` on (x, y) (x: float inputs, y: integer labels)."""
    module = _module(model)
    correct = 0
    with torch.inference_mode():
        for lo in range(0, len(x), batch_size):
            out = module(x[lo:lo + batch_size])                                      # (b, classes)
            pred = as_plain(out).argmax(-1).cpu()                                     # (b,)
            correct += int((pred == y[lo:lo + batch_size].cpu()).sum())
    return correct / len(x)


def _sparsity(model):
    from course.compress.prune import sparsity
    try:
        return sparsity(model)
    except ValueError:
        return 0.0


def measure(name: str, model, x_test, y_test, *, repeats: int = 30, threads: int | None = 1,
            sparsity: float | None = None) -> Measurement:
    """Size, latency (1 image, 256 images) and accuracy of `model`, as a `Measurement`.

    `sparsity`: the fraction of zero weights to report; by default counted over the prunable
    weights (Dense/Conv2D kernels, nn.Linear/nn.Conv2d weights) -- pass it for a quantised
    model, whose packed int8 weights are not counted.
    """
    size, zipped = file_size(_module(model))
    one = latency(model, x_test[:1], repeats=repeats, warmup=min(3, repeats), threads=threads)
    batch = latency(model, x_test[:256], repeats=max(1, repeats // 3), warmup=1, threads=threads)
    return Measurement(name, size, zipped, 1000 * one, 1000 * batch, accuracy(model, x_test, y_test),
                       _sparsity(model) if sparsity is None else sparsity)


def table(rows: list[Measurement], *, baseline: Measurement | None = None) -> str:
    """A Markdown table of measurements, each compared with `baseline` (default: the first row)."""
    baseline = baseline or (rows[0] if rows else None)
    head = ["model", "size MB", "zipped MB", "zeros", "latency 1 img ms", "latency 256 img ms", "test acc %"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(r.as_row(baseline)) + " |" for r in rows]
    return "\n".join(lines)
