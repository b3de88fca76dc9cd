"""`tf.nest`: names only (course.framework.nest)."""
from course.framework.nest import assert_same_structure, flatten, is_nested, map_structure, pack_sequence_as
from course.tf._unsupported import module_getattr

__getattr__, __dir__ = module_getattr(__name__, globals())
