"""The graph engine's errors: TensorFlow's `tf.errors` classes (shared with the eager engine in
`course.tape.errors`), plus `node_note`, the trailer that names the failing node as TF does:

    FailedPreconditionError: Attempting to use uninitialized value Variable_1
         [[node Variable_1 (defined at my_script.py:8)]]
"""
from course.tape.errors import (AbortedError, AlreadyExistsError, CancelledError, DataLossError,
                                DeadlineExceededError, FailedPreconditionError, InternalError, InvalidArgumentError,
                                NotFoundError, OpError, OutOfRangeError, PermissionDeniedError,
                                ResourceExhaustedError, UnauthenticatedError, UnavailableError, UnimplementedError,
                                UnknownError)

__all__ = ["OpError", "CancelledError", "UnknownError", "InvalidArgumentError", "DeadlineExceededError",
           "NotFoundError", "AlreadyExistsError", "PermissionDeniedError", "ResourceExhaustedError",
           "FailedPreconditionError", "AbortedError", "OutOfRangeError", "UnimplementedError", "InternalError",
           "UnavailableError", "DataLossError", "UnauthenticatedError", "node_note"]


def node_note(op) -> str:
    """TF's trailer naming the node, with where the learner's code created it when known."""
    if op is None:
        return ""
    where = getattr(op, "defined_at", None)
    at = f" (defined at {where})" if where else ""
    return f"\n\t [[node {op.name}{at}]]"
