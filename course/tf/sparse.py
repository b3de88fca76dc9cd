"""`tf.sparse`: COO sparse tensors for small examples (course.tape.sparse)."""
from course.tape.sparse import (SparseTensor, add, from_dense, reduce_sum, reorder, retain, slice_ as slice,
                                sparse_dense_matmul, to_dense, transpose)
from course.graph import dispatch as _dispatch
from course.tf._unsupported import module_getattr

_dispatch.wrap_namespace(globals(), "sparse.")   # inside tf.function: no graph form, so it runs eagerly

__getattr__, __dir__ = module_getattr(__name__, globals(), hints={
    "matmul": "Use tf.sparse.sparse_dense_matmul (a sparse times a dense matrix).",
    "segment_sum": "Use tf.math.segment_sum on dense tensors.",
})
