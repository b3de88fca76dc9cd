"""`tf.io`: `tf.io.gfile` (course.gfile), TensorFlow's file API on the local filesystem, and `decode_raw`."""
from course.tape.strings import decode_raw
from course.tf._unsupported import module_getattr

__getattr__, __dir__ = module_getattr(__name__, globals(), lazy={"gfile": "course.tf.io.gfile"}, hints={
    "read_file": "read files with Python: open(path, 'rb').read().",
    "decode_png": "decode images with PIL or torchvision.io.",
    "TFRecordWriter": "TFRecord files are not supported; save arrays with numpy.",
})
