"""Data-parallel training of a compiled Keras-style model with PyTorch's DistributedDataParallel.

Every process holds a full copy of the model and trains on its own shard of each global batch
(`sharding.py`). One step, on each of W processes, with b = B/W samples each:

    ŷ_r = model(x_r, training=True)                  forward, locally
    L_r = loss(y_r, ŷ_r)                             mean over the b local samples
    g_r = ∂L_r/∂w                                    backward, locally ...
    g   = (1/W) Σ_r g_r                              ... while DDP all-reduces the gradients in buckets
    w  <- rule(w, g)                                 the same update on every process

Since each L_r is a mean over b samples, the average of the W gradients is the gradient of the
mean loss over the whole global batch of B = W·b samples: the run takes the same steps as one
process with batch B (tests/distributed/test_distributed.py checks this to 1e-5). The weights start equal
because DDP broadcasts rank 0's weights when it wraps the model, and stay equal because every
process applies the same averaged gradient.

TensorFlow's `MirroredStrategy` differs in one convention: it SUMS the replicas' gradients, so a
custom loop must divide the loss by the global batch size (`tf.nn.compute_average_loss`). DDP
AVERAGES, so each process keeps the plain local mean.

Non-trainable float weights (BatchNormalization's moving statistics) are updated by each process
from its own batches; at the end of each epoch they are averaged over the processes (what
TensorFlow does for its on-read-synchronised variables).

The step and the loops are Keras' own (`course.keras.train_step`, `course.keras.trainer`): the
model's compiled loss, metrics and optimizer, with the DDP-wrapped model passed in as the module
the step runs forward and backward through. This module only sets up the process, shards the
data, and sums the metrics over the processes at the end of each epoch (`_DataParallel`).
"""
from __future__ import annotations

import sys
import time

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from course.distributed.env import DistEnv, setup
from course.distributed.sharding import ShardedBatches
from course.framework.convert import as_plain
from course.keras.callback import Callback
from course.keras.callbacks import CallbackList
from course.keras.train_step import Step
from course.keras.trainer import EpochHooks, evaluate_data, train_epochs

__all__ = ["fit", "evaluate"]


def _as_tensor(a, device):
    t = a if isinstance(a, torch.Tensor) else torch.as_tensor(a)
    return as_plain(t, floatx=True, device=device)            # float64 -> float32: Keras' floatx


def _check_compiled(model):
    if not getattr(model, "compiled", False) or getattr(model, "loss", None) is None:
        raise RuntimeError("course.distributed.fit needs a compiled model: call model.compile(optimizer='adam', "
                           "loss='sparse_categorical_crossentropy') first, as before model.fit().")


def _world():
    return (dist.get_rank(), dist.get_world_size()) if dist.is_initialized() else (0, 1)


class _Shard:
    """This process's batches as the Keras loops take them, `(x, y, None)`, at most `steps` per epoch;
    counts the samples it hands out."""

    def __init__(self, batches, steps=None):
        self.batches, self.steps, self.seen = batches, steps, 0

    def __len__(self):
        return len(self.batches) if self.steps is None else min(len(self.batches), self.steps)

    def __iter__(self):
        for i, (xb, yb) in enumerate(self.batches):
            if self.steps is not None and i >= self.steps:
                return
            self.seen += len(xb)
            yield xb, yb, None


class _DataParallel(EpochHooks):
    """The Keras loops' hooks for W processes: shard order per epoch, metric states summed over the
    processes before they are read, moving statistics averaged, and every process stops together."""

    stops_mid_epoch = False          # a process leaving the epoch early would leave the others waiting

    def __init__(self, data, device, world):
        self.data, self.device, self.world = data, device, world
        self.start = self.elapsed = 0.0
        self.samples = 0.0
        self.rates = []                  # global samples per second of each epoch (history.params)

    def all_sum(self, t):
        t = as_plain(t, device=self.device, clone=True)
        if self.world > 1:
            dist.all_reduce(t, op=dist.ReduceOp.SUM)
        return t

    def begin_epoch(self, epoch):
        self.data.batches.set_epoch(epoch)
        self.data.seen = 0
        self.start = time.perf_counter()

    def end_batches(self, model):
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        self.elapsed = time.perf_counter() - self.start
        self.samples = float(self.all_sum(torch.tensor(float(self.data.seen), dtype=torch.float64)))
        self.rates.append(self.samples / self.elapsed if self.elapsed else float("nan"))
        if self.world > 1:
            for w in model.non_trainable_weights:          # BatchNorm moving statistics: the mean over processes
                t = as_plain(w)
                if t.is_floating_point():
                    with torch.no_grad():
                        dist.all_reduce(t, op=dist.ReduceOp.SUM)
                        t.div_(self.world)

    def reduce(self, metrics):
        for m in metrics:
            m.sum_state(self.all_sum)

    def stop(self, requested):
        return float(self.all_sum(torch.tensor(float(bool(requested))))) > 0     # one process stops: all stop


class _Report(Callback):
    """Rank 0's line per epoch: the logs, the global samples and their throughput."""

    def __init__(self, hooks, say):
        super().__init__()
        self.hooks, self.say = hooks, say

    def on_epoch_end(self, epoch, logs=None):
        h, logs = self.hooks, logs or {}
        rate = h.rates[-1]
        train = ", ".join(f"{k} {v:.4f}" for k, v in logs.items() if not k.startswith("val_"))
        line = (f"epoch {epoch + 1}/{self.params['epochs']}: {train}, {h.samples:.0f} samples in {h.elapsed:.2f} s "
                f"({rate:,.0f} samples/s)")
        val = ", ".join(f"{k} {v:.4f}" for k, v in logs.items() if k.startswith("val_"))
        self.say(line + (f"; {val}" if val else ""))


def evaluate(model, x, y, *, batch_size: int = 256, device=None):
    """[loss, *metrics] over (x, y), each process evaluating its shard, the sums all-reduced.

    Evaluation pads the last shard (DistributedSampler's rule), so a few samples may count twice
    when len(x) is not a multiple of the world size: like Keras with a strategy, a tiny difference.
    """
    _check_compiled(model)
    rank, world = _world()
    device = device or next(model.parameters()).device
    data = _Shard(ShardedBatches(_as_tensor(x, device), _as_tensor(y, device), batch_size * world, rank=rank,
                                 world_size=world, shuffle=False))
    logs = evaluate_data(model, data, CallbackList(None, model=model, verbose=0, epochs=1, steps=len(data)),
                         hooks=_DataParallel(data, device, world))
    return [logs[m.name] for m in model.metrics]


def fit(model, x, y, *, batch_size: int = 32, epochs: int = 1, validation_data=None, callbacks=None, seed: int = 0,
        shuffle: bool = True, drop_last: bool = False, steps_per_epoch: int | None = None, verbose: int = 1,
        env: DistEnv | None = None, stream=None):
    """Train `model` (compiled) on (x, y) with data parallelism; returns a Keras `History`.

    `batch_size` is the GLOBAL batch B (split as B/W per process, W = WORLD_SIZE); `epochs`,
    `validation_data=(x_val, y_val)`, `callbacks` and `shuffle` mean what they mean in
    `model.fit` (callbacks run on rank 0 only, so a CSVLogger writes one file; a callback that
    sets `model.stop_training` stops every process at the end of the epoch). Started alone (no
    RANK/WORLD_SIZE in the environment) it is a world of one: the same loop, no all-reduce. Rank 0
    prints one line per epoch with the loss, the compiled metrics and the throughput;
    `history.params` holds the world size, the global and per-process batch sizes and the samples
    per second of each epoch.
    """
    env, device = setup(env)
    world, rank = env.world_size, env.rank
    stream = stream or sys.stdout
    say = (lambda *a: print(*a, file=stream, flush=True)) if (env.is_main and verbose) else (lambda *a: None)
    _check_compiled(model)

    x_t, y_t = _as_tensor(x, device), _as_tensor(y, device)              # whole data set, on the device
    batches = ShardedBatches(x_t, y_t, batch_size, rank=rank, world_size=world, seed=seed, shuffle=shuffle,
                             drop_last=drop_last)
    with torch.no_grad():
        model(batches.x[:1].float() / (255.0 if batches.x.dtype == torch.uint8 else 1.0))   # create the weights
    model.to(device)
    ddp = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None) \
        if world > 1 else None                                             # broadcasts rank 0's weights
    if rank > 0:            # own Dropout masks per process (the weights came from rank 0 already)
        torch.manual_seed(torch.initial_seed() + rank)
    data = _Shard(batches, steps_per_epoch)
    hooks = _DataParallel(data, device, world)
    val = None
    if validation_data is not None:
        val = _Shard(ShardedBatches(_as_tensor(validation_data[0], device), _as_tensor(validation_data[1], device),
                                    256 * world, rank=rank, world_size=world, shuffle=False))
    own = ([_Report(hooks, say)] if verbose else []) + list(callbacks or [])
    cbs = CallbackList(own if env.is_main else None, add_history=True, model=model, verbose=0, epochs=epochs,
                       steps=len(data), world_size=world, global_batch_size=batch_size,
                       local_batch_size=batches.batch_size, samples_per_sec=hooks.rates)
    say(f"course.distributed: {world} process(es), backend {dist.get_backend() if world > 1 else 'none'}, "
        f"device {device.type}; global batch {batch_size} = {world} x {batches.batch_size}")
    step = Step(model, module=ddp, all_labels=y_t)
    return train_epochs(model, data, step, cbs, epochs=epochs, val=val, hooks=hooks)
