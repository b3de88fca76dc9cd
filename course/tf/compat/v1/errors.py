"""`tf.compat.v1.errors`: TensorFlow's error classes. Names only."""
from course.framework.errors import (AbortedError, AlreadyExistsError, CancelledError, DataLossError,
                                 DeadlineExceededError, FailedPreconditionError, InternalError, InvalidArgumentError,
                                 NotFoundError, OpError, OutOfRangeError, PermissionDeniedError,
                                 ResourceExhaustedError, UnauthenticatedError, UnavailableError, UnimplementedError,
                                 UnknownError)
from course.tf import _unsupported

__getattr__, __dir__ = _unsupported.module_getattr(__name__, globals())
