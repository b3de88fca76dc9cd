"""TensorFlow's file API on the local filesystem: `tf.io.gfile` (TF2 names) and `tf.gfile` (TF1 names).

TensorFlow routes these through its own filesystems (local, GCS, HDFS); here they are the local
filesystem through `os`, `shutil` and `glob`, with TensorFlow's behaviour where it differs from
Python's: `makedirs` succeeds when the folder exists, a missing path
raises `tf.errors.NotFoundError` (a FileNotFoundError), and `rename`/`copy` refuse to overwrite
unless asked. `glob` returns its list sorted (TensorFlow's order is whatever the filesystem gives).
"""
import glob as _glob
import os
import shutil

from course.framework.errors import AlreadyExistsError, NotFoundError

__all__ = ["exists", "makedirs", "mkdir", "rmtree", "remove", "rename", "copy", "glob", "isdir", "listdir",
           "walk", "GFile", "TF1_NAMES"]


def _must_exist(path):
    if not os.path.exists(path):
        raise NotFoundError(None, None, f"{path}; No such file or directory")


def exists(path):
    return os.path.exists(path)


def makedirs(path):
    os.makedirs(path, exist_ok=True)


def mkdir(path):
    os.mkdir(path)


def rmtree(path):
    _must_exist(path)
    shutil.rmtree(path)


def remove(path):
    _must_exist(path)
    os.remove(path)


def _check_target(dst, overwrite, what):
    if os.path.exists(dst) and not overwrite:
        raise AlreadyExistsError(None, None, f"{what}: {dst} exists; pass overwrite=True to replace it.")


def rename(src, dst, overwrite=False):
    _must_exist(src)
    _check_target(dst, overwrite, "rename")
    os.replace(src, dst)


def copy(src, dst, overwrite=False):
    _must_exist(src)
    _check_target(dst, overwrite, "copy")
    shutil.copyfile(src, dst)


def glob(pattern):
    return sorted(_glob.glob(pattern))


def isdir(path):
    return os.path.isdir(path)


def listdir(path):
    _must_exist(path)
    return os.listdir(path)


def walk(top, topdown=True, onerror=None):
    return os.walk(top, topdown=topdown, onerror=onerror)


class GFile:
    """`tf.io.gfile.GFile(name, mode)`: an open file (a context manager), as `open` gives."""

    def __init__(self, name, mode="r"):
        if "r" in mode:
            _must_exist(name)
        self._file = open(name, mode)

    def __getattr__(self, attr):
        return getattr(self._file, attr)

    def __iter__(self):
        return iter(self._file)

    def size(self):
        return os.fstat(self._file.fileno()).st_size

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._file.close()


# TF1's `tf.gfile` spells the same functions in CamelCase.
TF1_NAMES = {"Exists": exists, "MakeDirs": makedirs, "MkDir": mkdir, "DeleteRecursively": rmtree, "Remove": remove,
             "Rename": rename, "Copy": copy, "Glob": glob, "IsDirectory": isdir, "ListDirectory": listdir,
             "Walk": walk, "GFile": GFile, "Open": GFile, "FastGFile": GFile}
