"""`tf.keras.callbacks`."""
from course.keras.callback import Callback
from course.keras.callbacks import (CSVLogger, CallbackList, EarlyStopping, History, LambdaCallback,
                                    LearningRateScheduler, ModelCheckpoint, ReduceLROnPlateau, TerminateOnNaN)
from course.keras.progbar import ProgbarLogger
from course.keras.tensorboard import TensorBoard
from course.tf._unsupported import module_getattr

__all__ = ["Callback", "CallbackList", "History", "ProgbarLogger", "EarlyStopping", "ModelCheckpoint",
           "TerminateOnNaN", "ReduceLROnPlateau", "CSVLogger", "LambdaCallback", "LearningRateScheduler",
           "TensorBoard"]

__getattr__, __dir__ = module_getattr(__name__, globals(), hints={
    "BackupAndRestore": "Use ModelCheckpoint instead.",
})
