"""What a Session owns while it runs a graph: variable values, random streams, device choice.

The graph only describes computations; the values live here, one `Runtime` per Session, so two
sessions on one graph have separate variables (as in TensorFlow). Variables are `VarSlot`s: the
slot holds the torch tensor once an initializer (or a restore) has run, and reading an empty slot
raises TF's FailedPreconditionError naming the variable.
"""
import re

import torch

import course.device
from course.framework.errors import FailedPreconditionError, InvalidArgumentError, node_note

__all__ = ["VarSlot", "Runtime", "parse_device"]


class VarSlot:
    """Storage of one variable in one session; `value` is None until initialised."""
    __slots__ = ("value", "op")

    def __init__(self, op):
        self.value, self.op = None, op

    def read(self):
        v = self.value
        if v is None:
            raise FailedPreconditionError(None, self.op, f"Attempting to use uninitialized value {self.op.name}"
                                          f"{node_note(self.op)}\nRun tf.global_variables_initializer() (or this "
                                          "variable's initializer) in the session first, or restore a checkpoint.")
        return v


_DEVICE = re.compile(r"(?:^|/)(?:device:)?(cpu|gpu|cuda)(?::(\d+))?$", re.IGNORECASE)


def parse_device(spec):
    """'/gpu:0', '/device:GPU:1', '/job:localhost/replica:0/task:0/device:CPU:0' -> ('gpu', 0)."""
    spec = (spec or "").strip()
    if not spec:
        return None
    tail = spec.split("/device:")[-1] if "/device:" in spec else spec.rstrip("/").split("/")[-1]
    m = _DEVICE.search(tail) or _DEVICE.search(spec)
    if m is None:
        raise ValueError(f"Cannot parse device specification {spec!r}; use '/cpu:0' or '/gpu:0'.")
    kind = "gpu" if m.group(1).lower() in ("gpu", "cuda") else "cpu"
    return kind, int(m.group(2) or 0)


class Runtime:
    """Per-session state: `vars` {VariableV2 op: VarSlot}, `streams` {random op: counter
    position}, `state` {op: anything a kernel keeps}, and the device placement rules."""

    def __init__(self, device=None, soft_placement=False, log_placement=False):
        self.device = course.device.get(device)
        self.soft_placement, self.log_placement = soft_placement, log_placement
        self.vars, self.streams, self.state = {}, {}, {}
        self.version = 0            # bumped whenever variables are (re)assigned wholesale

    def slot(self, var_op):
        s = self.vars.get(var_op)
        if s is None:
            s = self.vars[var_op] = VarSlot(var_op)
        return s

    def device_for(self, op):
        """The torch device `op` runs on: its explicit placement when this machine has it (else
        the session's device with soft placement, else TF's error), otherwise the session's."""
        try:
            parsed = parse_device(op.device)
        except ValueError as exc:
            raise InvalidArgumentError(None, op, f"{exc}{node_note(op)}") from None
        if parsed is None:
            return self.device
        kind, index = parsed
        if kind == "cpu":
            return torch.device("cpu")
        if torch.cuda.is_available() and index < torch.cuda.device_count():
            return torch.device("cuda", index)
        if self.soft_placement:
            return self.device
        raise InvalidArgumentError(
            None, op, f"Cannot assign a device for operation {op.name}: Could not satisfy explicit device "
            f"specification '{op.device}' because no supported kernel for GPU devices is available "
            f"(this machine has {torch.cuda.device_count()} CUDA GPU(s)).{node_note(op)}\nCreate the session with "
            "config=tf.ConfigProto(allow_soft_placement=True) to run such ops on the CPU instead.")

    def close(self):
        self.vars.clear()
        self.streams.clear()
        self.state.clear()
