"""`tf.config.threading`: names only (course.tape.devices)."""
from course.tape.devices import (get_inter_op_parallelism_threads, get_intra_op_parallelism_threads,
                                 set_inter_op_parallelism_threads, set_intra_op_parallelism_threads)
from course.tf._unsupported import module_getattr

__getattr__, __dir__ = module_getattr(__name__, globals())
