"""`tf.compat.v1.app.run`: call the script's `main(argv)` and exit with its return value."""
import sys

from course.tf import _unsupported


def run(main=None, argv=None):
    """TF1's entry point: `main(argv)` (default: the caller's __main__.main), then sys.exit."""
    main = main or sys.modules["__main__"].main
    sys.exit(main(list(argv) if argv is not None else sys.argv))


__getattr__, __dir__ = _unsupported.module_getattr(__name__, globals(), hints={
    "flags": "tf.app.flags is not supported; use argparse."})
