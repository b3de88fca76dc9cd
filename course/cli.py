"""The `course` command: info, train, run, lessons build, grade.

Each subcommand lives beside the code it drives and registers itself through an
`add_parser(subparsers)` function that sets `func`; this module only assembles them.
"""
import argparse
import importlib
import platform
import sys

__all__ = ["main", "info"]

# module -> the subcommands it adds (imported only when the command line needs them)
_SUBCOMMANDS = {
    "course.apps.train": ("train",),
    "course.tf.importhook": ("run",),
    "course.notebooks.cli": ("lessons",),
    "course.exercises.cli": ("grade",),
}


def info(args) -> int:
    """Print versions, the device in use and where MNIST was found; 1 when data is missing."""
    import torch
    import torchvision

    import course
    import course.data
    import course.device

    print(f"course       {course.__version__}")
    print(f"Python       {platform.python_version()} ({sys.executable})")
    print(f"torch        {torch.__version__} (CUDA build: {torch.version.cuda or 'none'}, "
          f"CUDA available: {torch.cuda.is_available()})")
    print(f"torchvision  {torchvision.__version__}")
    try:
        from importlib.metadata import version
        print(f"tensorboard  {version('tensorboard')}")
    except ImportError:                          # PackageNotFoundError is an ImportError
        print("tensorboard  not installed (only TensorBoard logs need it: pip install tensorboard)")
    try:
        dev = course.device.get(args.device)
    except course.device.DeviceError as exc:
        print(f"device       error: {exc}")
        return 1
    print(f"device       {course.device.describe(dev)}; available: {', '.join(course.device.available())}")
    try:
        found = course.data.find_mnist(args.data, verify=True)
    except course.data.MNISTDataError as exc:
        print(f"MNIST        MISSING\n{exc}")
        return 1
    print(f"MNIST        {found.folder} ({found.source}); MD5 checksums: OK")
    return 0


def build_parser(argv=None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="course", description="Deep learning the TensorFlow way, on PyTorch.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    p = sub.add_parser("info", help="versions, device and data")
    p.add_argument("--device", default=None, help="check this device (e.g. cuda, cpu)")
    p.add_argument("--data", default=None, help="look for MNIST here first")
    p.set_defaults(func=info)
    argv = sys.argv[1:] if argv is None else argv
    wanted = argv[0] if argv else None
    for module, commands in _SUBCOMMANDS.items():
        # Import a subcommand's module only when it is asked for, or for --help listings.
        if wanted in commands or wanted in (None, "-h", "--help"):
            importlib.import_module(module).add_parser(sub)
    return parser


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
