"""Write a file so that readers only ever see the old version or the complete new one.

`atomic_write(path, write)` lets `write` fill a temporary file beside `path`, then renames it
over `path` in one step (`os.replace`). The temporary's name says whose it is:
`.<target name>.tmp-<writer's PID>-<random>` (plus an optional extension a writer adds). A
process killed mid-save cannot clean up, so each save first removes the stale temporaries of
the same target: ours by name, and stale when their writer is dead or they have not been written
to for `STALE_AFTER` seconds. Nothing else in the folder is touched.

A failed save names the target the user asked for (never the temporary) and says what to do.
"""
import errno
import os
import re
import secrets
import stat
import time

__all__ = ["atomic_write", "temporary_name", "remove_stale_temporaries", "save_error", "STALE_AFTER"]

STALE_AFTER = 300.0           # seconds; a live writer touches its file far more often than this


def temporary_name(path):
    """A fresh temporary name beside `path`, carrying this process's PID."""
    folder, base = os.path.split(os.path.abspath(path))
    return os.path.join(folder, f".{base}.tmp-{os.getpid()}-{secrets.token_hex(4)}")


def _alive(pid):
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:               # it exists but is not ours to signal
        return True
    return True


def remove_stale_temporaries(path, now=None):
    """Delete the leftovers of interrupted saves of `path`; returns the paths removed."""
    folder, base = os.path.split(os.path.abspath(path))
    pattern = re.compile(rf"\.{re.escape(base)}\.tmp-(\d+)-[0-9a-f]{{8}}(\.[A-Za-z0-9]+)?")
    now = time.time() if now is None else now
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    removed = []
    for name in names:
        match = pattern.fullmatch(name)
        if not match:
            continue
        full = os.path.join(folder, name)
        try:
            st = os.lstat(full)
        except OSError:
            continue
        if not stat.S_ISREG(st.st_mode):           # never a link or a folder, whatever its name
            continue
        if _alive(int(match.group(1))) and now - st.st_mtime < STALE_AFTER:
            continue                               # a save in progress
        try:
            os.remove(full)
            removed.append(full)
        except OSError:
            pass
    return removed


def save_error(exc, path, tmp=None):
    """`exc` (an OSError) re-made to name `path`, the file the user is saving (never the temporary
    `tmp`), with what to do."""
    code = getattr(exc, "errno", None)
    folder = os.path.dirname(os.path.abspath(path))
    if code == errno.EISDIR or os.path.isdir(path):
        hint = f"{path} is a folder: choose a file name, or remove the folder first."
    elif code in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
        hint = "The disk is full: free some space or save to another disk."
    elif code in (errno.EACCES, errno.EPERM, errno.EROFS):
        hint = (f"The folder {folder} is not writable (read-only, or no permission): save somewhere you can "
                "write, such as your home folder.")
    elif code == errno.ENOENT:
        hint = f"Create the folder {folder} first (os.makedirs)."
    else:
        hint = f"Check that {folder} exists and is writable."
    reason = exc.strerror or str(exc)
    if tmp:
        reason = reason.replace(tmp, path).replace(os.path.basename(tmp), os.path.basename(path))
    message = f"Could not save {path}: {reason}. {hint}"
    try:
        return type(exc)(code, message) if code is not None else type(exc)(message)
    except TypeError:
        return OSError(code, message)


def atomic_write(path, write):
    """Call `write(tmp_path)`, then move the temporary file over `path` in one step: a crash or an
    error never leaves a half-written file, and the previous file stays intact."""
    path = os.fspath(path)
    if os.path.isdir(path):
        raise save_error(IsADirectoryError(errno.EISDIR, "Is a directory"), path)
    try:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    except OSError as exc:
        raise save_error(exc, path) from None
    remove_stale_temporaries(path)
    tmp = temporary_name(path)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            if os.path.lexists(tmp):
                os.remove(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise save_error(exc, path, tmp) from None
        raise
