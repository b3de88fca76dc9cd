"""`tf.data.experimental`: names only (course.tape.data)."""
from course.tape.data import AUTOTUNE, INFINITE as INFINITE_CARDINALITY, UNKNOWN as UNKNOWN_CARDINALITY, cardinality
from course.tf._unsupported import module_getattr

__getattr__, __dir__ = module_getattr(__name__, globals())
