"""`tf.data`: names only (course.tape.data)."""
from course.tape.data import (AUTOTUNE, INFINITE as INFINITE_CARDINALITY, UNKNOWN as UNKNOWN_CARDINALITY, Dataset,
                              Options)
from course.tape.data.dataset import DatasetSpec
from course.tape.data.files import TextLineDataset
from course.tf._unsupported import module_getattr
from course.tf.data import experimental

__getattr__, __dir__ = module_getattr(__name__, globals(), hints={
    "TFRecordDataset": "TFRecord files are not supported; load arrays and use Dataset.from_tensor_slices.",
    "FixedLengthRecordDataset": "read the file in Python, then tf.io.decode_raw and Dataset.from_tensor_slices.",
})
