"""`tf.distribute`: names only (course.distributed.strategy).

One replica (a CPU or one GPU) runs as TensorFlow runs it; several devices raise an error that
points to PyTorch's way, one process per device: `course train --nproc N` or torchrun with
`course.distributed.fit` (lesson 14).
"""
from course.distributed.strategy import (MirroredStrategy, MultiWorkerMirroredStrategy, OneDeviceStrategy, ReduceOp,
                                         Strategy, get_strategy, has_strategy, in_cross_replica_context)
from course.tf._unsupported import module_getattr

__all__ = ["MirroredStrategy", "OneDeviceStrategy", "MultiWorkerMirroredStrategy", "Strategy", "ReduceOp",
           "get_strategy", "has_strategy", "in_cross_replica_context"]

__getattr__, __dir__ = module_getattr(__name__, globals(), hints={
    "TPUStrategy": "TPUs are not supported; on GPUs use PyTorch DDP (course train --nproc N).",
    "ParameterServerStrategy": "parameter servers are not supported; use data parallelism with all-reduce "
                               "(course train --nproc N, or torchrun).",
    "CentralStorageStrategy": "not supported; use MirroredStrategy on one device, or DDP (course train --nproc N).",
    "experimental": "tf.distribute.experimental is not supported; see dir(tf.distribute).",
    "cluster_resolver": "TF_CONFIG cluster resolvers are not supported; torchrun reads RANK/WORLD_SIZE/MASTER_ADDR.",
})
