"""Mixing datasets: `Dataset.sample_from_datasets` (random, by weights) and `choose_from_datasets`.

Both are TF's `_DirectedInterleaveDataset`: each output element comes from the input that a
selector names. The random draws use torch's generator, so the sequence of picks differs from
TF's for the same seed (the proportions and every other rule are TF's).
"""
import torch

from course.tape.data.dataset import INFINITE, UNKNOWN, Dataset
from course.tape.random import draw_seed
from course.tape.tensor import to_numpy, to_tensor

__all__ = ["_DirectedInterleaveDataset", "sample_from_datasets", "choose_from_datasets"]


class _DirectedInterleaveDataset(Dataset):
    def __init__(self, datasets, selector, stop_on_empty_dataset):
        self._datasets, self._selector, self._stop = list(datasets), selector, bool(stop_on_empty_dataset)
        self._batched = all(d._batched for d in self._datasets)

    def _cardinality(self):
        ns = [d._cardinality() for d in self._datasets]
        return INFINITE if all(n == INFINITE for n in ns) else UNKNOWN

    def _iter_generic(self):
        iters = [d._iter_elements() for d in self._datasets]
        alive = [True] * len(iters)
        for pick in self._selector(alive):
            if not 0 <= pick < len(iters):
                from course.tape.errors import InvalidArgumentError
                raise InvalidArgumentError(None, None, f"Selector index out of range: {pick} >= {len(iters)}")
            if not alive[pick]:
                continue
            element = next(iters[pick], None)
            if element is None:
                alive[pick] = False
                if self._stop or not any(alive):
                    return
                continue
            yield element


def sample_from_datasets(datasets, weights=None, seed=None, stop_on_empty_dataset=False, rerandomize_each_iteration=None):
    """Each element from input i with probability weights[i] (renormalised over the inputs left)."""
    n = len(datasets)
    w = torch.ones(n, dtype=torch.float64) if weights is None else \
        torch.as_tensor(to_numpy(to_tensor(weights)), dtype=torch.float64).reshape(-1)
    if w.numel() != n:
        raise ValueError(f"weights has {w.numel()} entries for {n} datasets; give one weight per dataset.")
    base = draw_seed(seed)

    def selector(alive):
        gen = torch.Generator().manual_seed(base % 2**63)
        while any(alive):
            live = w * torch.tensor(alive, dtype=torch.float64)
            if float(live.sum()) <= 0:
                return
            yield int(torch.multinomial(live, 1, generator=gen))
    return _DirectedInterleaveDataset(datasets, selector, stop_on_empty_dataset)


def choose_from_datasets(datasets, choice_dataset, stop_on_empty_dataset=True):
    """Element k comes from datasets[choice_dataset[k]] (choice_dataset yields int64 scalars)."""
    def selector(alive):
        for choice in choice_dataset._iter_elements():
            yield int(to_numpy(choice))
    return _DirectedInterleaveDataset(datasets, selector, stop_on_empty_dataset)
