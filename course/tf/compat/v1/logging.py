"""`tf.compat.v1.logging`: TF1's logging calls on Python's `logging` ('tensorflow' logger)."""
import logging as _logging

from course.tf import _unsupported

DEBUG, INFO, WARN, ERROR, FATAL = _logging.DEBUG, _logging.INFO, _logging.WARNING, _logging.ERROR, _logging.FATAL
_log = _logging.getLogger("tensorflow")


def set_verbosity(v):
    _log.setLevel(v)


def get_verbosity():
    return _log.getEffectiveLevel()


def debug(msg, *args):
    _log.debug(msg, *args)


def info(msg, *args):
    _log.info(msg, *args)


def warning(msg, *args):
    _log.warning(msg, *args)


warn = warning


def error(msg, *args):
    _log.error(msg, *args)


__getattr__, __dir__ = _unsupported.module_getattr(__name__, globals())
