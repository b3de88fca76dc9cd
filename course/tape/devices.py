"""What `tf.config`, `tf.test` and `tf.device` report and change, answered from torch's view of the machine.

GPUs are torch's CUDA devices. `tf.config.set_visible_devices([], 'GPU')` makes every engine use
the CPU (through course.device); memory growth and thread settings are accepted.
`with tf.device('/GPU:0'):` computes there if it exists and otherwise stays put (TF's soft placement).
"""
import contextlib
from collections import namedtuple

import torch

import course.device

__all__ = ["PhysicalDevice", "LogicalDevice", "list_physical_devices", "list_logical_devices",
           "set_visible_devices", "get_visible_devices", "set_memory_growth", "get_memory_growth",
           "is_gpu_available", "is_built_with_cuda", "gpu_device_name", "device", "executing_eagerly",
           "enable_op_determinism", "set_intra_op_parallelism_threads", "set_inter_op_parallelism_threads",
           "get_intra_op_parallelism_threads", "get_inter_op_parallelism_threads", "set_soft_device_placement",
           "get_soft_device_placement", "set_virtual_device_configuration"]

PhysicalDevice = namedtuple("PhysicalDevice", ["name", "device_type"])
LogicalDevice = namedtuple("LogicalDevice", ["name", "device_type"])


def _gpu_count():
    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def list_physical_devices(device_type=None):
    out = [PhysicalDevice("/physical_device:CPU:0", "CPU")]
    out += [PhysicalDevice(f"/physical_device:GPU:{i}", "GPU") for i in range(_gpu_count())]
    return [d for d in out if device_type is None or d.device_type == str(device_type).upper()]


def list_logical_devices(device_type=None):
    return [LogicalDevice(d.name.replace("/physical_device:", "/device:"), d.device_type)
            for d in get_visible_devices(device_type)]


_hidden_gpus = [False]


def set_visible_devices(devices, device_type=None):
    """Hiding every GPU (`[]` with 'GPU') makes the engines compute on the CPU."""
    devices = [devices] if isinstance(devices, PhysicalDevice) else list(devices)
    if device_type is None or str(device_type).upper() == "GPU":
        hide = not any(d.device_type == "GPU" for d in devices)
        _hidden_gpus[0] = hide
        course.device.set_default("cpu" if hide else None)


def get_visible_devices(device_type=None):
    devices = list_physical_devices(device_type)
    return [d for d in devices if not (d.device_type == "GPU" and _hidden_gpus[0])]


def set_memory_growth(device, enable):
    """Accepted: torch's caching allocator already grows on demand."""


def get_memory_growth(device):
    return True


def is_gpu_available(cuda_only=False, min_cuda_compute_capability=None):
    if not torch.cuda.is_available() or _hidden_gpus[0]:
        return False
    if min_cuda_compute_capability is not None:
        return torch.cuda.get_device_capability(0) >= tuple(min_cuda_compute_capability)
    return True


def is_built_with_cuda():
    return torch.version.cuda is not None


def gpu_device_name():
    return "/device:GPU:0" if is_gpu_available() else ""


def executing_eagerly():
    return True


@contextlib.contextmanager
def device(device_name):
    """Compute on `device_name` ('/CPU:0', '/GPU:0', 'cpu', 'cuda') inside the block, when it exists."""
    name = str(device_name).lower().replace("/device:", "/").strip("/")
    kind = "cuda" if "gpu" in name or "cuda" in name else "cpu"
    previous = course.device.get()
    wanted = torch.device(kind) if kind == "cpu" or torch.cuda.is_available() else previous
    course.device.set_default(wanted)
    try:
        yield
    finally:
        course.device.set_default(previous)


def enable_op_determinism():
    course.device.deterministic(True)


def set_intra_op_parallelism_threads(num_threads):
    if num_threads:
        torch.set_num_threads(int(num_threads))


def set_inter_op_parallelism_threads(num_threads):
    if num_threads:
        try:
            torch.set_num_interop_threads(int(num_threads))
        except RuntimeError:
            pass          # torch allows this only before the first parallel op; TF would warn too


def get_intra_op_parallelism_threads():
    return torch.get_num_threads()


def get_inter_op_parallelism_threads():
    return torch.get_num_interop_threads()


def set_soft_device_placement(enabled):
    """Accepted: placement is always soft here (a missing GPU means the CPU)."""


def get_soft_device_placement():
    return True


def set_virtual_device_configuration(device, logical_devices):
    """Accepted and ignored (torch does not split a GPU into logical devices)."""
