"""course: a deep-learning course kit that teaches TensorFlow's concepts and runs them on PyTorch.

`from course import tf` gives the TensorFlow-shaped facade; the engines live in
`course.tape` (eager), `course.keras` (Keras-style) and `course.graph` (TF1 graphs and sessions).
"""
import importlib

__all__ = ["__version__", "tf"]
__version__ = "0.1.0"


def __getattr__(name):
    # `from course import tf` without importing the whole facade on `import course`.
    if name == "tf":
        return importlib.import_module("course.tf")
    raise AttributeError(f"module 'course' has no attribute {name!r}")
