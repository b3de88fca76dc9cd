"""`tf.io`: `tf.io.gfile` (course.gfile), TensorFlow's file API on the local filesystem, and the
`decode_raw` / `decode_csv` / image decoders of string tensors."""
from course.tape.data.files import decode_csv
from course.tape.image_files import decode_image, decode_jpeg, decode_png, encode_png, read_file, write_file
from course.tape.strings import decode_raw
from course.tf._unsupported import module_getattr

__getattr__, __dir__ = module_getattr(__name__, globals(), lazy={"gfile": "course.tf.io.gfile"}, hints={
    "TFRecordWriter": "TFRecord files are not supported; save arrays with numpy.",
})
