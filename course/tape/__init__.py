"""The eager engine: TF-mannered tensors, Variables, GradientTape and eager ops."""
from course.tape.dtypes import as_torch_dtype
from course.tape.tensor import EagerTensor, Variable, as_eager, as_plain, convert, to_numpy

__all__ = ["EagerTensor", "Variable", "as_eager", "as_plain", "convert", "to_numpy", "as_torch_dtype"]
