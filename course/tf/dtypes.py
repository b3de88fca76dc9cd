"""`tf.dtypes`: names only (course.framework.dtypes)."""
from course.framework.dtypes import (DType, as_dtype, bfloat16, bool_ as bool, complex64, complex128, double, float16,
                                float32, float64, half, int8, int16, int32, int64, string, uint8)
from course.tape.math_ops import cast, saturate_cast
from course.tf._unsupported import module_getattr

__getattr__, __dir__ = module_getattr(__name__, globals())
