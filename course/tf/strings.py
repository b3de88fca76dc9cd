"""`tf.strings`: string tensors are numpy bytes underneath (course.tape.string_tensor says why)."""
from course.tape.strings import (as_string, bytes_split, format_ as format, join, length, lower, ngrams, reduce_join,
                                 regex_full_match, regex_replace, split, strip, substr, to_number, unicode_decode,
                                 unicode_encode, unicode_split, upper)
from course.graph import dispatch as _dispatch
from course.tf._unsupported import module_getattr

_dispatch.wrap_namespace(globals(), "strings.")   # inside tf.function: no graph form, so it runs eagerly

__getattr__, __dir__ = module_getattr(__name__, globals(), hints={
    "to_hash_bucket_fast": "Hash buckets are not supported; map strings to ids with a Python dict.",
})
