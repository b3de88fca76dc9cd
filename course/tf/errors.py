"""`tf.errors`: names only (course.framework.errors)."""
from course.framework.errors import (AbortedError, AlreadyExistsError, CancelledError, DataLossError,
                                     DeadlineExceededError,
                                FailedPreconditionError, InternalError, InvalidArgumentError, NotFoundError, OpError,
                                OutOfRangeError, PermissionDeniedError, ResourceExhaustedError, UnauthenticatedError,
                                UnavailableError, UnimplementedError, UnknownError)
from course.graph.autograph import OperatorNotAllowedInGraphError  # noqa: F401
from course.tf._unsupported import module_getattr

__getattr__, __dir__ = module_getattr(__name__, globals())
