"""`tf.compat.v1.train`: the TF1 optimizers, global step, Saver and schedules. Names only."""
from course.graph.saver import Saver, checkpoint_exists, get_checkpoint_state, latest_checkpoint
from course.tape.checkpoint import Checkpoint
from course.tape.checkpoint_manager import CheckpointManager
from course.tape.checkpoint_files import CheckpointReader, list_variables, load_checkpoint
from course.graph.train import (AdagradOptimizer, AdamOptimizer, GradientDescentOptimizer, MomentumOptimizer,
                                Optimizer, RMSPropOptimizer, create_global_step, exponential_decay, get_global_step,
                                get_or_create_global_step, global_step)
from course.tf import _unsupported

__getattr__, __dir__ = _unsupported.module_getattr(__name__, globals(), hints={
    "MonitoredTrainingSession": "use tf.Session() and a Python loop; hooks are not supported.",
    "FtrlOptimizer": "FTRL is not supported; use AdamOptimizer or AdagradOptimizer.",
    "AdadeltaOptimizer": "Adadelta is not supported; use AdamOptimizer or RMSPropOptimizer.",
    "string_input_producer": "input queues are not supported; feed numpy batches through feed_dict.",
    "shuffle_batch": "input queues are not supported; feed numpy batches through feed_dict.",
})
