"""TensorFlow dtype names mapped onto torch dtypes."""
import numpy as np
import torch

__all__ = ["as_torch_dtype", "DTYPES"]

DTYPES = {
    "float16": torch.float16, "half": torch.float16, "bfloat16": torch.bfloat16,
    "float32": torch.float32, "float": torch.float32, "float64": torch.float64, "double": torch.float64,
    "int8": torch.int8, "int16": torch.int16, "int32": torch.int32, "int64": torch.int64,
    "uint8": torch.uint8, "bool": torch.bool, "complex64": torch.complex64, "complex128": torch.complex128,
}


def as_torch_dtype(dtype) -> torch.dtype:
    """torch dtype from a torch dtype, a numpy dtype/type, a python type or a TF-style name."""
    if isinstance(dtype, torch.dtype):
        return dtype
    if dtype is float:
        return torch.float32
    if dtype is int:
        return torch.int32
    if dtype is bool:
        return torch.bool
    name = getattr(dtype, "name", None) or (dtype if isinstance(dtype, str) else None)
    if name is None:
        try:
            name = np.dtype(dtype).name
        except TypeError:
            name = None
    if name in DTYPES:
        return DTYPES[name]
    raise TypeError(f"Unknown dtype {dtype!r}; expected one of {sorted(DTYPES)} or a torch/numpy dtype.")
