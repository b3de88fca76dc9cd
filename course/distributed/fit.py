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
process with batch B (tests/test_distributed.py checks this to 1e-5). The weights start equal
because DDP broadcasts rank 0's weights when it wraps the model, and stay equal because every
process applies the same averaged gradient.

TensorFlow's `MirroredStrategy` differs in one convention: it SUMS the replicas' gradients, so a
custom loop must divide the loss by the global batch size (`tf.nn.compute_average_loss`). DDP
AVERAGES, so each process keeps the plain local mean.

Non-trainable float weights (BatchNormalization's moving statistics) are updated by each process
from its own batches; at the end of each epoch they are averaged over the processes (what
TensorFlow does for its on-read-synchronised variables).
"""
from __future__ import annotations

import sys
import time

import numpy as np
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from course.distributed.env import DistEnv, setup
from course.distributed.sharding import ShardedBatches

__all__ = ["fit", "evaluate"]


def _plain(t):
    """An EagerTensor / Variable viewed as a plain torch tensor (no subclass dispatch)."""
    with torch._C.DisableTorchFunctionSubclass():
        return t.as_subclass(torch.Tensor) if type(t) is not torch.Tensor else t


def _as_tensor(a, device):
    t = a if isinstance(a, torch.Tensor) else torch.from_numpy(np.ascontiguousarray(a))
    t = _plain(t)
    if t.dtype == torch.float64:
        t = t.to(torch.float32)                       # Keras' floatx
    return t.to(device)


def _correct(y, out):
    """Number of right answers in a batch: argmax of the output against the label (or one-hot row)."""
    out = _plain(out)
    pred = out.argmax(-1) if out.shape[-1] > 1 else (out.reshape(-1) > 0.5).long()       # (b,)
    y = _plain(y)
    true = y.argmax(-1) if y.dim() > 1 and y.shape[-1] > 1 else y.reshape(-1).long()     # (b,)
    return (pred == true).sum()


def _loss_object(model):
    from course.keras import losses as keras_losses
    if not getattr(model, "compiled", False) or getattr(model, "loss", None) is None:
        raise RuntimeError("course.distributed.fit needs a compiled model: call model.compile(optimizer='adam', "
                           "loss='sparse_categorical_crossentropy') first, as before model.fit().")
    return keras_losses.get(model.loss)


def _all_sum(values, device):
    """Sum a list of numbers over all processes (one all-reduce)."""
    t = torch.tensor(values, dtype=torch.float64, device=device)
    if dist.is_initialized() and dist.get_world_size() > 1:
        dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return t.tolist()


def _average_non_trainable(model, world_size):
    """Mean of every non-trainable float weight over the processes (BatchNorm moving statistics)."""
    if world_size == 1:
        return
    for w in getattr(model, "non_trainable_weights", []):
        t = _plain(w)
        if t.is_floating_point():
            with torch.no_grad():
                dist.all_reduce(t, op=dist.ReduceOp.SUM)
                t.div_(world_size)


def evaluate(model, x, y, *, batch_size: int = 256, device=None):
    """[loss, accuracy] over (x, y), each process evaluating its shard, the sums all-reduced.

    Evaluation pads the last shard (DistributedSampler's rule), so a few samples may count twice
    when len(x) is not a multiple of the world size: like Keras with a strategy, a tiny difference.
    """
    rank, world = (dist.get_rank(), dist.get_world_size()) if dist.is_initialized() else (0, 1)
    device = device or next(model.parameters()).device
    loss_object = _loss_object(model)
    data = ShardedBatches(_as_tensor(x, device), _as_tensor(y, device), batch_size * world, rank=rank,
                          world_size=world, shuffle=False)
    total_loss, correct, seen = 0.0, torch.zeros((), device=device), 0
    with torch.no_grad():
        for xb, yb in data:
            out = model(xb, training=False)
            total_loss = total_loss + _plain(loss_object(yb, out)) * len(xb)
            correct = correct + _correct(yb, out)
            seen += len(xb)
    loss_sum, correct_sum, n = _all_sum([float(total_loss), float(correct), seen], device)
    return [loss_sum / n, correct_sum / n]


def fit(model, x, y, *, batch_size: int = 32, epochs: int = 1, validation_data=None, callbacks=None, seed: int = 0,
        shuffle: bool = True, drop_last: bool = False, steps_per_epoch: int | None = None, verbose: int = 1,
        env: DistEnv | None = None, stream=None):
    """Train `model` (compiled) on (x, y) with data parallelism; returns a Keras `History`.

    `batch_size` is the GLOBAL batch B (split as B/W per process, W = WORLD_SIZE); `epochs`,
    `validation_data=(x_val, y_val)`, `callbacks` and `shuffle` mean what they mean in
    `model.fit` (callbacks run on rank 0 only, so a CSVLogger writes one file; a callback that
    sets `model.stop_training` stops every process). Started alone (no RANK/WORLD_SIZE in the
    environment) it is a world of one: the same loop, no all-reduce. Rank 0 prints one line per
    epoch with loss, accuracy and throughput; `history.params` holds the world size, the global
    and per-process batch sizes and the samples per second of each epoch.
    """
    from course.keras.callbacks import CallbackList
    from course.keras.layers.call_context import recording_gradients

    env, device = setup(env)
    world, rank = env.world_size, env.rank
    stream = stream or sys.stdout
    say = (lambda *a: print(*a, file=stream, flush=True)) if (env.is_main and verbose) else (lambda *a: None)
    loss_object = _loss_object(model)
    optimizer = model.optimizer

    x_t, y_t = _as_tensor(x, device), _as_tensor(y, device)              # whole data set, on the device
    data = ShardedBatches(x_t, y_t, batch_size, rank=rank, world_size=world, seed=seed, shuffle=shuffle,
                          drop_last=drop_last)
    with torch.no_grad():
        model(data.x[:1].float() / (255.0 if data.x.dtype == torch.uint8 else 1.0))   # create the weights
    model.to(device)
    variables = list(model.trainable_variables)
    ddp = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None) \
        if world > 1 else model                                            # broadcasts rank 0's weights
    if rank > 0:            # own Dropout masks per process (the weights came from rank 0 already)
        torch.manual_seed(torch.initial_seed() + rank)
    steps = len(data) if steps_per_epoch is None else min(len(data), steps_per_epoch)
    cbs = CallbackList(callbacks if env.is_main else None, add_history=True, model=model, verbose=0, epochs=epochs,
                       steps=steps, world_size=world, global_batch_size=batch_size, local_batch_size=data.batch_size,
                       samples_per_sec=[])
    wants_batches = cbs.wants_batches("train")
    say(f"course.distributed: {world} process(es), backend {dist.get_backend() if world > 1 else 'none'}, "
        f"device {device.type}; global batch {batch_size} = {world} x {data.batch_size}")

    model.stop_training = False
    cbs.on_train_begin()
    for epoch in range(epochs):
        data.set_epoch(epoch)
        cbs.on_epoch_begin(epoch)
        loss_sum = torch.zeros((), dtype=torch.float64, device=device)
        correct = torch.zeros((), dtype=torch.int64, device=device)
        seen = 0
        start = time.perf_counter()
        for step, (xb, yb) in enumerate(data):
            if step >= steps:
                break
            if wants_batches:
                cbs.on_train_batch_begin(step)
            with recording_gradients():                                    # a torch loop: no GradientTape
                out = ddp(xb, training=True)                               # ŷ_r
                loss = loss_object(yb, out)                                # L_r, local mean
            loss.backward()                                                # g_r, all-reduced to g by DDP
            optimizer.apply_gradients([(v.grad, v) for v in variables])    # w <- rule(w, g)
            for v in variables:
                v.grad = None
            with torch.no_grad():
                loss_sum += _plain(loss).detach().double() * len(xb)
                correct += _correct(yb, out.detach())
            seen += len(xb)
            if wants_batches:
                cbs.on_train_batch_end(step, {"loss": float(_plain(loss).detach())})
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        elapsed = time.perf_counter() - start
        _average_non_trainable(model, world)
        total_loss, total_correct, total_seen = _all_sum([float(loss_sum), float(correct), seen], device)
        logs = {"loss": total_loss / total_seen, "accuracy": total_correct / total_seen}
        cbs.params["samples_per_sec"].append(total_seen / elapsed)                    # global samples per second
        line = (f"epoch {epoch + 1}/{epochs}: loss {logs['loss']:.4f}, accuracy {logs['accuracy']:.4f}, "
                f"{total_seen:.0f} samples in {elapsed:.2f} s ({total_seen / elapsed:,.0f} samples/s)")
        if validation_data is not None:
            logs["val_loss"], logs["val_accuracy"] = evaluate(model, *validation_data, device=device)
            line += f"; val_loss {logs['val_loss']:.4f}, val_accuracy {logs['val_accuracy']:.4f}"
        say(line)
        cbs.on_epoch_end(epoch, logs)
        if _all_sum([float(bool(model.stop_training))], device)[0] > 0:     # one process stops: all stop
            break
    cbs.on_train_end()
    return cbs.history
