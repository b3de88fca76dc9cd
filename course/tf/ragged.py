"""`tf.ragged`: one ragged dimension (course.tape.ragged); deeper nesting is not supported."""
from course.tape.ragged import RaggedTensor, constant, map_flat_values
from course.tf._unsupported import module_getattr

__getattr__, __dir__ = module_getattr(__name__, globals(), hints={
    "stack": "Build the rows as Python lists and call tf.ragged.constant.",
})
