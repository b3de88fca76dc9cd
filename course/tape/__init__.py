"""The eager engine: TF-mannered tensors, Variables, GradientTape and eager ops."""
from course.tape.tensor import EagerTensor, as_eager, convert, to_numpy, to_tensor
from course.tape.variables import Variable

__all__ = ["EagerTensor", "Variable", "as_eager", "convert", "to_numpy", "to_tensor"]
