"""`tf.io`: `tf.io.gfile` (course.gfile), TensorFlow's file API on the local filesystem, and the
`decode_raw` / `decode_csv` parsers of string tensors."""
from course.tape.data.files import decode_csv
from course.tape.strings import decode_raw
from course.tf._unsupported import module_getattr

__getattr__, __dir__ = module_getattr(__name__, globals(), lazy={"gfile": "course.tf.io.gfile"}, hints={
    "read_file": "read files with Python: open(path, 'rb').read().",
    "decode_png": "decode images with PIL or torchvision.io.",
    "TFRecordWriter": "TFRecord files are not supported; save arrays with numpy.",
})
