"""`tf.keras.regularizers`."""
from course.keras.regularizers import L1, L2, L1L2, OrthogonalRegularizer, Regularizer, get, l1, l1_l2, l2, serialize
from course.tf._unsupported import module_getattr

__all__ = ["Regularizer", "L1", "L2", "L1L2", "OrthogonalRegularizer", "l1", "l2", "l1_l2", "get", "serialize"]

__getattr__, __dir__ = module_getattr(__name__, globals())
