"""`tf.saved_model`: save an object's traced functions and variables; load them in any process.
Names only (course.graph.saved_model, course.graph.saved_model_load)."""
from course.graph.saved_model import save
from course.graph.saved_model_load import load
from course.tf import _unsupported

__all__ = ["save", "load", "SERVING", "DEFAULT_SERVING_SIGNATURE_DEF_KEY", "contains_saved_model"]

SERVING = "serve"
DEFAULT_SERVING_SIGNATURE_DEF_KEY = "serving_default"


def contains_saved_model(export_dir):
    """True when `export_dir` holds a SavedModel written here (its saved_model.json)."""
    import os
    return os.path.isfile(os.path.join(os.fspath(export_dir), "saved_model.json"))


__getattr__, __dir__ = _unsupported.module_getattr(__name__, globals(), hints={
    "Asset": "tf.saved_model.Asset is not supported; keep vocabularies in variables or constants.",
    "builder": "tf.saved_model.builder is TensorFlow 1's; use tf.saved_model.save.",
    "loader": "tf.saved_model.loader is TensorFlow 1's; use tf.saved_model.load.",
})
