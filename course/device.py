"""Device selection, seeds and determinism.

`get()` picks CUDA, then Apple MPS, then the CPU, unless a device is named (argument or the
COURSE_DEVICE environment variable). Every engine asks here, so user code never names a device.
"""
import os
import random
import sys

import numpy as np
import torch

__all__ = ["get", "set_default", "available", "seed", "deterministic", "describe", "DeviceError"]

_chosen = None          # the device in use, once resolved
_announced = False


class DeviceError(RuntimeError):
    """A device was asked for that this machine does not have."""


def available() -> list[str]:
    """Names of the devices this machine can use, best first."""
    names = []
    if torch.cuda.is_available():
        names += [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        names.append("mps")
    names.append("cpu")
    return names


def _resolve(name: str) -> torch.device:
    name = name.strip().lower()
    if name in ("gpu", "/gpu:0", "/device:gpu:0"):
        name = "cuda"
    try:
        dev = torch.device(name)
    except RuntimeError:
        raise DeviceError(f"Unknown device {name!r}; expected one of {available()} (or 'cuda', 'gpu').") from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise DeviceError(f"Device {name!r} was requested but this machine has no CUDA GPU "
                              f"(torch {torch.__version__}, CUDA build: {torch.version.cuda or 'no'}). "
                              f"Available: {available()}. Use --device cpu or leave the device unset.")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise DeviceError(f"Device {name!r} does not exist; available: {available()}.")
    if dev.type == "mps" and "mps" not in available():
        raise DeviceError(f"Device 'mps' was requested but is not available; available: {available()}.")
    return dev


def get(name: str | torch.device | None = None) -> torch.device:
    """The device to compute on: `name` if given, else COURSE_DEVICE, else the best available."""
    global _chosen
    if name is not None:
        return name if isinstance(name, torch.device) else _resolve(name)
    if _chosen is None:
        env = os.environ.get("COURSE_DEVICE")
        _chosen = _resolve(env) if env else torch.device(available()[0].split(":")[0])
    return _chosen


def set_default(name: str | torch.device | None) -> torch.device | None:
    """Make `name` the device every engine uses from now on (None: choose again automatically)."""
    global _chosen, _announced
    _chosen = None if name is None else get(name)
    _announced = False
    return _chosen


def in_notebook() -> bool:
    """True inside a Jupyter kernel (ipykernel), where stderr shows as a red error band."""
    shell = sys.modules.get("IPython")
    ip = getattr(shell, "get_ipython", lambda: None)() if shell is not None else None
    return ip is not None and type(ip).__name__ == "ZMQInteractiveShell"


def announce(stream=None) -> None:
    """Say once which device was chosen (engines call this on first use).

    Scripts get the line on stderr, so it stays out of piped output; in a notebook it goes to
    stdout, because JupyterLab paints stderr as an error band and this line is no error."""
    global _announced
    if not _announced:
        _announced = True
        if stream is None:
            stream = sys.stdout if in_notebook() else sys.stderr
        print(f"course: using {describe()}", file=stream)


def seed(n: int = 0) -> None:
    """Seed Python's `random`, numpy's global generator and torch (CPU and every GPU)."""
    random.seed(n)
    np.random.seed(n % 2**32)
    torch.manual_seed(n)


def deterministic(flag: bool = True) -> None:
    """Ask torch for deterministic kernels (slower on GPU); raises on ops that have none."""
    torch.use_deterministic_algorithms(flag, warn_only=False)
    torch.backends.cudnn.benchmark = not flag
    if flag:
        # cuBLAS needs this to be deterministic; harmless on the CPU.
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")


def describe(device: torch.device | None = None) -> str:
    """One line naming the device in use, e.g. 'cuda:0 (NVIDIA H100, 79.2 GiB)' or 'cpu (2 threads)'."""
    dev = device or get()
    if dev.type == "cuda":
        i = dev.index or 0
        props = torch.cuda.get_device_properties(i)
        return f"cuda:{i} ({props.name}, {props.total_memory / 2**30:.1f} GiB)"
    if dev.type == "mps":
        return "mps (Apple GPU)"
    return f"cpu ({torch.get_num_threads()} thread{'' if torch.get_num_threads() == 1 else 's'})"
