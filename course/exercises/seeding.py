"""Fresh grading inputs: each run of the checks draws from one seed, recorded with the result.

A check that draws its inputs from `numpy_rng()` or `torch_generator()` gets new values on every
run (so a table of memorised answers cannot pass), and the same values again for the same seed
(so a grade can be reproduced: `course grade` writes the seed into its JSON).
"""
from __future__ import annotations

import contextlib
import secrets

__all__ = ["current_seed", "new_seed", "numpy_rng", "torch_generator", "seeded"]

_stack: list[int] = []


def new_seed() -> int:
    return secrets.randbelow(2**31)


def current_seed() -> int:
    """The seed of the checks that are running (a fresh one outside any run)."""
    if not _stack:
        _stack.append(new_seed())
    return _stack[-1]


def numpy_rng(offset: int = 0):
    """A numpy Generator for this run; `offset` separates the streams of different checks."""
    import numpy as np
    return np.random.default_rng([current_seed(), offset])


def torch_generator(offset: int = 0):
    """A torch.Generator for this run; `offset` separates the streams of different checks."""
    import torch
    return torch.Generator().manual_seed(current_seed() * 1_000_003 + offset)


@contextlib.contextmanager
def seeded(seed: int | None):
    """Checks inside the block draw from `seed` (a fresh one if None)."""
    _stack.append(new_seed() if seed is None else int(seed))
    try:
        yield _stack[-1]
    finally:
        _stack.pop()
