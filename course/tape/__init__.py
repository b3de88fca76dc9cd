"""The eager engine: TF-mannered tensors, Variables, GradientTape and eager ops."""
from course.tape.tensor import EagerTensor, Variable, as_eager, convert, to_numpy, to_tensor

__all__ = ["EagerTensor", "Variable", "as_eager", "convert", "to_numpy", "to_tensor"]
