"""`tf.ragged`: one ragged dimension (course.tape.ragged); deeper nesting is not supported."""
from course.tape.ragged import RaggedTensor, constant
from course.tf._unsupported import module_getattr

__getattr__, __dir__ = module_getattr(__name__, globals(), hints={
    "map_flat_values": "Apply the op to rt.flat_values and rebuild with tf.RaggedTensor.from_row_splits.",
})
