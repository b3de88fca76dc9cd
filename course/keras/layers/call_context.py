"""What the outermost layer call decided, seen by every layer called inside it.

`call_context` holds the training flag, where activity losses go (`add_loss`), whether shapes
are being worked out on a zero sample (`dry_run`), and whether to record for autograd without a
tape (`recording_gradients()`). `graph_tensor` tells a layer it is called inside a traced
tf.function.
"""
import contextlib
import threading

from course.tape import tensor as _tape_tensor
from course.tape.gradient_tape import autograd_wanted_hooks, recording_tapes

__all__ = ["call_context", "recording_gradients", "records", "graph_tensor"]


class _CallContext(threading.local):
    """What the outermost call decided: the training flag and where activity losses go."""

    def __init__(self):
        self.depth = 0
        self.training = False
        self.losses = None
        self.dry_run = False          # building shapes on a zero sample: the batch size is not the user's
        self.record = False           # record for autograd without a tape (recording_gradients())


call_context = _CallContext()
# inside a layer call with grad mode on (fit's step), a traced tf.function in `call` records for autograd
autograd_wanted_hooks.append(lambda: call_context.depth > 0)


@contextlib.contextmanager
def recording_gradients():
    """Layer calls inside the block record for torch autograd even with no GradientTape, so a torch
    loop can call `loss.backward()` (DistributedDataParallel needs that, not `tape.gradient`)."""
    outer, call_context.record = call_context.record, True
    try:
        yield
    finally:
        call_context.record = outer


def records():
    """Does a layer call record for gradients now (a recording tape, or `recording_gradients()`)?"""
    return call_context.record or bool(recording_tapes())


def graph_tensor(value):
    """Is `value` a graph tensor (the layer is called inside a traced tf.function)?"""
    hooks = _tape_tensor.graph_hooks
    return bool(hooks) and hooks["is_symbolic"](value)
