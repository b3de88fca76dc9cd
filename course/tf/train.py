"""`tf.train` (TensorFlow 2): checkpoints of objects, their manager and readers. Names only
(course.tape.checkpoint, checkpoint_restore, checkpoint_manager, checkpoint_files)."""
from course.tape.checkpoint import Checkpoint
from course.tape.checkpoint_manager import CheckpointManager
from course.tape.checkpoint_files import CheckpointReader, latest_checkpoint, list_variables, load_checkpoint
from course.tf import _unsupported

__all__ = ["Checkpoint", "CheckpointManager", "CheckpointReader", "latest_checkpoint", "list_variables",
           "load_checkpoint"]

_TF1 = "is TensorFlow 1's (tf.compat.v1.train); in TF2 use tf.keras.optimizers, or run with `course run --v1`."

__getattr__, __dir__ = _unsupported.module_getattr(__name__, globals(), hints={
    "Saver": "tf.train.Saver is TensorFlow 1's: use tf.train.Checkpoint (or tf.compat.v1.train.Saver with "
             "`course run --v1`).",
    "GradientDescentOptimizer": f"It {_TF1}",
    "AdamOptimizer": f"It {_TF1}",
    "MomentumOptimizer": f"It {_TF1}",
    "RMSPropOptimizer": f"It {_TF1}",
    "AdagradOptimizer": f"It {_TF1}",
    "Example": "tf.train.Example (TFRecord protos) is not supported; keep data in numpy arrays or tf.data.",
    "Feature": "tf.train.Feature (TFRecord protos) is not supported; keep data in numpy arrays or tf.data.",
    "checkpoints_iterator": "Not supported; poll tf.train.latest_checkpoint(folder) in a loop.",
})
