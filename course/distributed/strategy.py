"""TensorFlow's distribution strategies, mapped onto what runs here -- and no further.

TensorFlow's `MirroredStrategy` keeps one replica of the model per local device inside ONE
process, splits each global batch across them and sums their gradients with an all-reduce.
PyTorch's answer is `DistributedDataParallel`: one PROCESS per device, gradients averaged with an
all-reduce (see `fit.py`). The mapping is honest where the two coincide:

- one replica (a CPU, or one GPU): `MirroredStrategy()` has `num_replicas_in_sync == 1`,
  `scope()` is a context under which models are built as usual, and `model.fit` /
  `strategy.run(step, args)` train exactly as TensorFlow does with one device;
- several local GPUs: `num_replicas_in_sync` is their number, but `scope()` raises an error that
  points to the PyTorch way -- one process per GPU, `course train --nproc N` or
  `torchrun --nproc_per_node N script.py` with `course.distributed.fit` -- since replicas inside
  one process are not something PyTorch's engine does.

Replica-context helpers (`run`, `reduce`, `experimental_distribute_dataset`) work for one replica,
which is what lets TensorFlow's custom-training-loop tutorial run unchanged on a laptop.
"""
from __future__ import annotations

import contextlib
import enum

import torch

import course.device
from course.distributed.env import in_job

__all__ = ["ReduceOp", "Strategy", "MirroredStrategy", "OneDeviceStrategy", "MultiWorkerMirroredStrategy",
           "get_strategy", "has_strategy", "in_cross_replica_context", "DistributeError"]

_current = []           # the strategies whose scope() is open, innermost last


class DistributeError(NotImplementedError):
    """A distribution TensorFlow does in one process; here it takes one process per device."""


class ReduceOp(enum.Enum):
    """`tf.distribute.ReduceOp`: how values from the replicas are combined."""
    SUM = "SUM"
    MEAN = "MEAN"


def _device_name(dev: torch.device) -> str:
    kind = "GPU" if dev.type == "cuda" else dev.type.upper()
    return f"/job:localhost/replica:0/task:0/device:{kind}:{dev.index or 0}"


def _parse(name) -> torch.device:
    """'/gpu:1', 'GPU:0', '/device:CPU:0', 'cuda:0', 'cpu' -> torch.device."""
    text = str(name).strip().lower().split("device:")[-1].lstrip("/")
    kind, _, index = text.partition(":")
    kind = {"gpu": "cuda"}.get(kind, kind)
    return torch.device(kind, int(index)) if index and kind != "cpu" else torch.device(kind)


def _pointer(n: int) -> str:
    return (f"PyTorch runs data parallelism as one process per device (DistributedDataParallel): run "
            f"`course train --nproc {n}`, or `torchrun --nproc_per_node {n} your_script.py` with "
            f"course.distributed.fit(model, x, y, batch_size=GLOBAL_BATCH) inside (lesson 14).")


class Strategy:
    """The common surface of TensorFlow's strategies, for a single replica in this process."""

    def __init__(self, devices):
        self._devices = tuple(devices)
        self.extended = self

    @property
    def num_replicas_in_sync(self) -> int:
        """How many replicas each global batch is split over."""
        return len(self._devices)

    @property
    def worker_devices(self):
        return tuple(_device_name(d) for d in self._devices)

    def _check_runnable(self):
        if in_job():
            raise DistributeError(f"{type(self).__name__} inside a job of several processes (WORLD_SIZE is set) would "
                                  f"train each process on its own, without synchronising gradients. Train with "
                                  f"course.distributed.fit(model, x, y, batch_size=GLOBAL_BATCH), which wraps the "
                                  f"model in DistributedDataParallel.")
        if self.num_replicas_in_sync > 1:
            raise DistributeError(f"{type(self).__name__} over {self.num_replicas_in_sync} devices "
                                  f"{list(self.worker_devices)} in one process is not supported. "
                                  + _pointer(self.num_replicas_in_sync))
        current = course.device.get()
        dev = self._devices[0]
        if dev.type != current.type or (dev.index or 0) != (current.index or 0):
            raise DistributeError(f"{type(self).__name__} asks for {_device_name(dev)}, but the engines compute "
                                  f"on {course.device.describe(current)}. Choose the device once with "
                                  f"course.device.set_default({str(dev)!r}) or COURSE_DEVICE={dev}, then build the "
                                  f"strategy with no devices argument.")

    @contextlib.contextmanager
    def scope(self):
        """Models, optimizers and variables created inside belong to this strategy (one replica:
        they are created as usual, on the device in use)."""
        self._check_runnable()
        _current.append(self)
        try:
            yield self
        finally:
            _current.remove(self)

    def experimental_distribute_dataset(self, dataset, options=None):
        """One replica reads the whole global batch: the dataset as it is."""
        self._check_runnable()
        return dataset

    def run(self, fn, args=(), kwargs=None, options=None):
        """Run `fn(*args, **kwargs)` on each replica; with one replica, once, here."""
        self._check_runnable()
        return fn(*args, **(kwargs or {}))

    def reduce(self, reduce_op, value, axis=None):
        """Combine per-replica values (one replica: the value itself), then over `axis` if given."""
        op = ReduceOp(reduce_op.value if isinstance(reduce_op, ReduceOp) else str(reduce_op).upper())
        if axis is None:
            return value
        from course.tape import math_ops
        return (math_ops.reduce_sum if op is ReduceOp.SUM else math_ops.reduce_mean)(value, axis=axis)

    def experimental_local_results(self, value):
        return (value,)

    def __repr__(self):
        return f"<{type(self).__name__} devices={list(self.worker_devices)}>"


class MirroredStrategy(Strategy):
    """`tf.distribute.MirroredStrategy(devices=None, cross_device_ops=None)`.

    Devices default to every local GPU, else the CPU (one replica), as in TensorFlow.
    """

    def __init__(self, devices=None, cross_device_ops=None):
        if devices is None:
            count = torch.cuda.device_count() if course.device.get().type == "cuda" else 0
            devices = [torch.device("cuda", i) for i in range(count)] or [course.device.get()]
        else:
            devices = [_parse(d) for d in devices]
            if not devices:
                raise ValueError("MirroredStrategy(devices=[]): give at least one device, or leave devices unset.")
        super().__init__(devices)


class OneDeviceStrategy(Strategy):
    """`tf.distribute.OneDeviceStrategy(device)`: everything on that one device."""

    def __init__(self, device):
        super().__init__([_parse(device)])


class MultiWorkerMirroredStrategy(Strategy):
    """`tf.distribute.MultiWorkerMirroredStrategy`: several machines. Here that is a torchrun job."""

    def __init__(self, cluster_resolver=None, communication_options=None):
        raise DistributeError("MultiWorkerMirroredStrategy (TF_CONFIG clusters) is not supported. Across machines, "
                              "start the same program on each with torchrun (--nnodes, --node_rank, --master_addr) "
                              "and train with course.distributed.fit. " + _pointer(2))


class _DefaultStrategy(Strategy):
    """What `tf.distribute.get_strategy()` returns outside any scope: one replica, no distribution."""

    def __init__(self):
        super().__init__([])

    @property
    def num_replicas_in_sync(self) -> int:
        return 1

    def _check_runnable(self):
        pass

    def __repr__(self):
        return "<DefaultDistributionStrategy (one replica)>"


_default = _DefaultStrategy()


def get_strategy() -> Strategy:
    """The strategy whose scope is open, else the default (single-replica) strategy."""
    return _current[-1] if _current else _default


def has_strategy() -> bool:
    """True inside a strategy's scope."""
    return bool(_current)


def in_cross_replica_context() -> bool:
    """True outside `strategy.run` (always, here: one replica runs in the caller's context)."""
    return True
