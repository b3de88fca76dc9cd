"""Run-wide switches read from the environment, each in one place."""
import os

__all__ = ["fast_mode", "FAST_ENV"]

FAST_ENV = "COURSE_FAST"


def fast_mode() -> bool:
    """True when COURSE_FAST is set to anything but '', '0', 'false' or 'no'.

    Fast mode shrinks epochs and data so that CI can execute every notebook in minutes;
    the full mode reproduces the accuracies the lessons state.
    """
    return os.environ.get(FAST_ENV, "").strip().lower() not in ("", "0", "false", "no", "off")
