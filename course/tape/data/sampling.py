"""Mixing and resampling: `sample_from_datasets` (random, by weights), `choose_from_datasets`, and
`rejection_resample` (keep elements so the classes follow a target distribution).

Both are TF's `_DirectedInterleaveDataset`: each output element comes from the input that a
selector names. The random draws use torch's generator, so the sequence of picks differs from
TF's for the same seed (the proportions and every other rule are TF's).
"""
import torch

from course.tape.data.dataset import INFINITE, UNKNOWN, Dataset, register
from course.tape.random import draw_seed
from course.tape.tensor import to_numpy, to_tensor

__all__ = ["_DirectedInterleaveDataset", "sample_from_datasets", "choose_from_datasets", "rejection_resample"]


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
                from course.framework.errors import InvalidArgumentError
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


def sample_from_datasets(datasets, weights=None, seed=None, stop_on_empty_dataset=False,
                         rerandomize_each_iteration=None):
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


class _RejectionResampleDataset(Dataset):
    """`rejection_resample`: (class, element) pairs, elements kept with the probability that turns the
    class distribution into `target_dist` (TF's acceptance rule: target/initial, scaled so the
    likeliest ratio is 1; the initial distribution is counted on the fly when not given)."""

    def __init__(self, input_dataset, class_func, target_dist, initial_dist, seed):
        self._input, self._class_func = input_dataset, class_func
        self._tf_name = "_DirectedInterleaveDataset" if initial_dist is not None else "_MapDataset"
        self._target = torch.as_tensor(to_numpy(to_tensor(target_dist)), dtype=torch.float64).reshape(-1)
        self._initial = None if initial_dist is None else \
            torch.as_tensor(to_numpy(to_tensor(initial_dist)), dtype=torch.float64).reshape(-1)
        self._seed = draw_seed(seed)

    def _cardinality(self):
        return UNKNOWN if self._input._cardinality() != INFINITE else INFINITE

    def _iter_generic(self):
        from course.tape.data import structure
        gen = torch.Generator().manual_seed(self._seed % 2**63)
        counts = torch.zeros_like(self._target)
        for element in self._input._iter_elements():
            c = int(to_numpy(structure.call(self._class_func, element)))
            counts[c] += 1
            initial = self._initial if self._initial is not None else counts / counts.sum()
            ratio = torch.where(initial > 0, self._target / initial.clamp(min=1e-12), torch.zeros_like(initial))
            accept = float(ratio[c] / ratio.max()) if float(ratio.max()) > 0 else 0.0
            if float(torch.rand(1, generator=gen)) < accept:
                yield (torch.tensor(c, dtype=torch.int32), element)


def rejection_resample(dataset, class_func, target_dist, initial_dist=None, seed=None):
    return _RejectionResampleDataset(dataset, class_func, target_dist, initial_dist, seed)


register(sample_from_datasets, choose_from_datasets, rejection_resample)
