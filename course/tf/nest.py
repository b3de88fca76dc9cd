"""`tf.nest`: names only (course.tape.nest)."""
from course.tape.nest import assert_same_structure, flatten, is_nested, map_structure, pack_sequence_as
from course.tf._unsupported import module_getattr

__getattr__, __dir__ = module_getattr(__name__, globals())
