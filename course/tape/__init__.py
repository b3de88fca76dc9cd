"""The eager engine: TF-mannered tensors, Variables, GradientTape and eager ops."""
from course.framework.dtypes import DType, as_dtype, as_torch_dtype
from course.framework.shapes import TensorShape
from course.tape.tensor import EagerTensor, Variable, as_eager, as_plain, convert, to_numpy, to_tensor

__all__ = ["EagerTensor", "Variable", "as_eager", "as_plain", "convert", "to_numpy", "to_tensor", "as_torch_dtype",
           "as_dtype", "DType", "TensorShape"]
