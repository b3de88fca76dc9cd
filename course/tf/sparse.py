"""`tf.sparse`: COO sparse tensors for small examples (course.tape.sparse)."""
from course.tape.sparse import (SparseTensor, add, from_dense, reduce_sum, reorder, retain, slice_ as slice,
                                sparse_dense_matmul, to_dense, transpose)
from course.tf._unsupported import module_getattr

__getattr__, __dir__ = module_getattr(__name__, globals(), hints={
    "matmul": "Use tf.sparse.sparse_dense_matmul (a sparse times a dense matrix).",
    "segment_sum": "Use tf.math.segment_sum on dense tensors.",
})
