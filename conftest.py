"""Shared test setup: fast mode on, a headless matplotlib, and the cuda marker skip."""
import os

# Before torch is imported (here and in the notebook kernels, which inherit this environment):
os.environ.setdefault("COURSE_FAST", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TQDM_DISABLE", "1")
# Idle OpenMP threads sleep instead of spinning: with notebook kernels and subprocesses sharing two
# cores, spinning threads slowed steps 5-10x.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import pytest  # noqa: E402
# torchvision (through torch._dynamo) loads triton's native library; loaded after TensorFlow's, it
# segfaults the process. Parity tests import TensorFlow, so load torchvision first, once.
import torchvision  # noqa: F401,E402


def pytest_collection_modifyitems(config, items):
    import torch
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA GPU")
    for item in items:
        if "cuda" in item.keywords:
            item.add_marker(skip)
