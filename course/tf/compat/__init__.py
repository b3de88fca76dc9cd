"""`tf.compat`: `tf.compat.v1` is the TF1 graph API (course.graph); `tf.compat.v2` is course.tf."""
from course.tf import _unsupported

__getattr__, __dir__ = _unsupported.module_getattr(__name__, globals(), lazy={
    "v1": "course.tf.compat.v1", "v2": "course.tf"})
