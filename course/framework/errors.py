"""`tf.errors`: TensorFlow's error classes, raised by the engines where TensorFlow raises them.

Each takes either TensorFlow's `(node_def, op, message)` or just a message. `InvalidArgumentError`
is also a `ValueError`, `OutOfRangeError` also an `IndexError`, `UnimplementedError` also a
`NotImplementedError`, `ResourceExhaustedError` also a `MemoryError`, so plain Python `except`
clauses catch them too. `node_note(op)` is the trailer that names the failing graph node as TF does:

    FailedPreconditionError: Attempting to use uninitialized value Variable_1
         [[node Variable_1 (defined at my_script.py:8)]]
"""
__all__ = ["OpError", "CancelledError", "UnknownError", "InvalidArgumentError", "DeadlineExceededError",
           "NotFoundError", "AlreadyExistsError", "PermissionDeniedError", "UnauthenticatedError",
           "ResourceExhaustedError", "FailedPreconditionError", "AbortedError", "OutOfRangeError",
           "UnimplementedError", "InternalError", "UnavailableError", "DataLossError", "node_note"]


class OpError(Exception):
    """Base class of TensorFlow's runtime errors: `message`, `node_def`, `op`, `error_code`."""

    error_code = 2

    def __init__(self, *args, **kwargs):
        if len(args) >= 3:
            node_def, op, message = args[:3]
        else:
            node_def = kwargs.pop("node_def", None)
            op = kwargs.pop("op", None)
            message = args[0] if args else kwargs.pop("message", "")
        super().__init__(message)
        self._message, self._node_def, self._op = message, node_def, op

    @property
    def message(self):
        return self._message

    @property
    def node_def(self):
        return self._node_def

    @property
    def op(self):
        return self._op

    def __str__(self):
        return str(self._message)


def _error(name, code, *bases, doc):
    return type(name, (OpError, *bases), {"error_code": code, "__doc__": doc, "__module__": __name__})


CancelledError = _error("CancelledError", 1, doc="An operation was cancelled.")
UnknownError = _error("UnknownError", 2, doc="An unknown error.")
InvalidArgumentError = _error("InvalidArgumentError", 3, ValueError,
                              doc="An operation received an invalid argument (wrong shape, value or dtype).")
DeadlineExceededError = _error("DeadlineExceededError", 4, doc="A deadline expired.")
NotFoundError = _error("NotFoundError", 5, FileNotFoundError, doc="A file or resource was not found.")
AlreadyExistsError = _error("AlreadyExistsError", 6, doc="An entity already exists.")
PermissionDeniedError = _error("PermissionDeniedError", 7, PermissionError, doc="Permission denied.")
ResourceExhaustedError = _error("ResourceExhaustedError", 8, MemoryError, doc="Out of memory or another resource.")
FailedPreconditionError = _error("FailedPreconditionError", 9,
                                 doc="The system is not in a state to run the operation "
                                     "(e.g. an uninitialised variable).")
AbortedError = _error("AbortedError", 10, doc="An operation was aborted.")
OutOfRangeError = _error("OutOfRangeError", 11, IndexError, doc="Iteration went past the end (e.g. of a dataset).")
UnimplementedError = _error("UnimplementedError", 12, NotImplementedError, doc="An operation is not implemented.")
InternalError = _error("InternalError", 13, doc="An internal invariant broke.")
UnavailableError = _error("UnavailableError", 14, doc="A service is unavailable.")
DataLossError = _error("DataLossError", 15, doc="Unrecoverable data loss or corruption.")
UnauthenticatedError = _error("UnauthenticatedError", 16, doc="The request lacks valid credentials.")


def node_note(op) -> str:
    """TF's trailer naming the node, with where the learner's code created it when known."""
    if op is None:
        return ""
    where = getattr(op, "defined_at", None)
    at = f" (defined at {where})" if where else ""
    return f"\n\t [[node {op.name}{at}]]"
