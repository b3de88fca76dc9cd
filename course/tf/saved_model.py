"""`tf.saved_model`: save an object's traced functions and variables; load them in any process.
Names only (course.graph.saved_model, course.graph.saved_model_load)."""
from course.graph.saved_model import save
from course.graph.saved_model_load import load
from course.tf import _unsupported

__all__ = ["save", "load", "SERVING", "DEFAULT_SERVING_SIGNATURE_DEF_KEY", "contains_saved_model", "SaveOptions",
           "LoadOptions"]

SERVING = "serve"
DEFAULT_SERVING_SIGNATURE_DEF_KEY = "serving_default"


class SaveOptions:
    """`tf.saved_model.SaveOptions(...)`: accepted for TensorFlow's programs (the tf.distribute guides pass
    `experimental_io_device`); one process writes local files here, so the options change nothing."""

    def __init__(self, namespace_whitelist=None, save_debug_info=False, function_aliases=None,
                 experimental_io_device=None, experimental_variable_policy=None, **kwargs):
        self.namespace_whitelist, self.save_debug_info = namespace_whitelist, save_debug_info
        self.function_aliases, self.experimental_io_device = function_aliases, experimental_io_device
        self.experimental_variable_policy = experimental_variable_policy


class LoadOptions:
    """`tf.saved_model.LoadOptions(...)`: accepted for TensorFlow's programs; loading reads local files here,
    so the options change nothing."""

    def __init__(self, allow_partial_checkpoint=False, experimental_io_device=None, experimental_skip_checkpoint=False,
                 experimental_variable_policy=None, **kwargs):
        self.allow_partial_checkpoint, self.experimental_io_device = allow_partial_checkpoint, experimental_io_device
        self.experimental_skip_checkpoint = experimental_skip_checkpoint
        self.experimental_variable_policy = experimental_variable_policy


def contains_saved_model(export_dir):
    """True when `export_dir` holds a SavedModel written here (its saved_model.json)."""
    import os
    return os.path.isfile(os.path.join(os.fspath(export_dir), "saved_model.json"))


__getattr__, __dir__ = _unsupported.module_getattr(__name__, globals(), hints={
    "Asset": "tf.saved_model.Asset is not supported; keep vocabularies in variables or constants.",
    "builder": "tf.saved_model.builder is TensorFlow 1's; use tf.saved_model.save.",
    "loader": "tf.saved_model.loader is TensorFlow 1's; use tf.saved_model.load.",
})
