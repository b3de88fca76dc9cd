"""While a model is rebuilt from a file, `add_weight` may not create more values than the file holds.

A model rebuilt from a config cannot need more numbers than its weights file stores, so a config
asking for a huge kernel is refused before memory is allocated (see course/keras/saving).
"""
import contextlib
import threading

import numpy as np

__all__ = ["weight_budget", "charge"]


class _Budget(threading.local):
    """While a model is rebuilt from a file: how many more weight values the file can fill."""

    def __init__(self):
        self.left, self.source, self.error = None, None, None


_budget = _Budget()


@contextlib.contextmanager
def weight_budget(values, source, error):
    """Inside the block, `add_weight` refuses (raising `error`) to create more weight values than
    `values`: a model rebuilt from `source` cannot need more numbers than the file holds, so a
    config asking for a huge kernel is refused before memory is allocated."""
    saved = (_budget.left, _budget.source, _budget.error)
    _budget.left, _budget.source, _budget.error = values, source, error
    try:
        yield
    finally:
        _budget.left, _budget.source, _budget.error = saved


def charge(layer, name, shape):
    """Count a new weight of `shape` against the budget (nothing happens outside `weight_budget`)."""
    if _budget.left is None:
        return
    need = int(np.prod(shape, dtype=np.float64))
    if need > _budget.left:
        raise _budget.error(f"{_budget.source}: the config asks layer {layer.name!r} for weight {name!r} of shape "
                            f"{shape} ({need:,} values), but the file's weights hold only {_budget.left:,} more "
                            "values. The config does not match its weights (a corrupt or hostile file); it is "
                            "refused before allocating memory.")
    _budget.left -= need
