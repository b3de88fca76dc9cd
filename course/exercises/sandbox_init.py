"""The init of a sandbox (course.exercises.sandbox): `python -I -S sandbox_init.py SPEC`.

SPEC is a JSON file the grader wrote: the command, its environment and folder, the limits, and (for
the namespace modes) the mounts of the learner's view. Standard library only, no `course` imports:
it runs before, and outside, the learner's view.

- weak: set the limits, enter the folder, exec the command.
- namespace, userns (run by `unshare` as pid 1 of new mount and pid namespaces, as root there):
  build a fresh root on a tmpfs (a new /proc, a minimal /dev, private /tmp and /dev/shm, the
  read-only binds and the writable folders), bring up `lo` in a new network namespace,
  fork; the child enters that root, sets the limits,
  drops every capability (namespace: becomes uid/gid 65534 with no groups) and execs the command
  with no new privileges; the init reaps orphans and exits with the command, which ends every
  other process of the namespace.
"""
import json
import os
import signal
import sys

__all__ = []


_DEVICES = ("null", "zero", "full", "random", "urandom")      # bound from the host's /dev
_MS_RDONLY, _MS_NOSUID, _MS_NODEV, _MS_NOEXEC = 1, 2, 4, 8
_MS_REMOUNT, _MS_BIND, _MS_REC, _MS_PRIVATE = 32, 4096, 16384, 1 << 18
_MS_NOATIME, _MS_NODIRATIME, _MS_RELATIME = 1024, 2048, 1 << 21
_PR_CAPBSET_DROP, _PR_SET_SECUREBITS, _PR_SET_NO_NEW_PRIVS = 24, 28, 38
_SECURE_NOROOT_ALL_LOCKED = 0xFF     # exec as uid 0 grants no capability, and nothing can undo that


def _libc():
    import ctypes
    return ctypes.CDLL(None, use_errno=True)


def _mount(libc, source, target, fstype, flags, data=None) -> None:
    import ctypes
    enc = (lambda s: None if s is None else s.encode())
    if libc.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"mount {source} on {target}: {os.strerror(err)}")


def _build_root(spec) -> None:
    libc, root, size = _libc(), spec["root"], spec["limits"]["tmp_bytes"]
    _mount(libc, None, "/", None, _MS_REC | _MS_PRIVATE)
    _mount(libc, "tmpfs", root, "tmpfs", _MS_NOSUID | _MS_NODEV, "mode=0755,size=16m")
    # Special folders first: the binds below may lie inside /tmp (the private folder does).
    for folder, mode in (("/proc", 0o555), ("/dev", 0o755), ("/tmp", 0o1777)):
        os.makedirs(root + folder, mode=mode, exist_ok=True)
    _mount(libc, "proc", root + "/proc", "proc", _MS_NOSUID | _MS_NODEV | _MS_NOEXEC)
    _mount(libc, "tmpfs", root + "/dev", "tmpfs", _MS_NOSUID | _MS_NOEXEC, "mode=0755,size=1m")
    for name in _DEVICES:
        open(f"{root}/dev/{name}", "a").close()
        _mount(libc, f"/dev/{name}", f"{root}/dev/{name}", None, _MS_BIND)
    for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
                         ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2")):
        os.symlink(target, f"{root}/dev/{name}")
    os.makedirs(f"{root}/dev/shm")
    for folder in ("/tmp", "/dev/shm"):
        _mount(libc, "tmpfs", root + folder, "tmpfs", _MS_NOSUID | _MS_NODEV, f"mode=1777,size={size}")
    for kind, source, target in spec["mounts"]:
        where = root + target
        if kind == "link":
            os.makedirs(os.path.dirname(where), exist_ok=True)
            os.symlink(source, where)
            continue
        if os.path.isdir(source):
            os.makedirs(where, exist_ok=True)
        else:
            os.makedirs(os.path.dirname(where), exist_ok=True)
            open(where, "a").close()
        _mount(libc, source, where, None, _MS_BIND | _MS_REC)
        flags = _MS_REMOUNT | _MS_BIND | _MS_NOSUID | _MS_NODEV | (0 if kind == "rw" else _MS_RDONLY)
        _mount(libc, None, where, None, flags | _kept_flags(source))


def _loopback_up() -> None:
    """A new network namespace has only `lo`, and down: bring it up (gloo meets on localhost)."""
    import fcntl
    import socket
    import struct
    siocgifflags, siocsifflags, iff_up = 0x8913, 0x8914, 1
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        request = struct.pack("16sH22x", b"lo", 0)                     # struct ifreq
        flags = struct.unpack("16sH22x", fcntl.ioctl(s, siocgifflags, request))[1]
        fcntl.ioctl(s, siocsifflags, struct.pack("16sH22x", b"lo", flags | iff_up))


def _kept_flags(path: str) -> int:
    # A user namespace may not drop the flags its mounts came with (noexec, atime rules): keep them.
    f = os.statvfs(path).f_flag
    return (f & (_MS_RDONLY | _MS_NOSUID | _MS_NODEV | _MS_NOEXEC | _MS_NOATIME | _MS_NODIRATIME)) | \
        (_MS_RELATIME if f & 4096 else 0)


def _limit(spec) -> None:
    import resource
    lim = spec["limits"]
    for name, value, extra in (("RLIMIT_CPU", lim["cpu_seconds"], 5), ("RLIMIT_AS", lim["memory_bytes"], 0),
                               ("RLIMIT_NPROC", lim["processes"], 0), ("RLIMIT_FSIZE", lim["file_bytes"], 0)):
        if value is not None:
            which = getattr(resource, name)
            hard = resource.getrlimit(which)[1]     # an ordinary user cannot raise its hard limits
            hard = value + extra if hard == resource.RLIM_INFINITY else min(value + extra, hard)
            resource.setrlimit(which, (min(value, hard), hard))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _drop_privileges(spec) -> None:
    libc = _libc()
    for cap in range(64):               # no capability can come back, whatever is executed
        if libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            break                       # past the last capability this kernel knows
    if spec["mode"] == "namespace":
        os.setgroups([])
        os.setresgid(spec["gid"], spec["gid"], spec["gid"])
        os.setresuid(spec["uid"], spec["uid"], spec["uid"])
    elif libc.prctl(_PR_SET_SECUREBITS, _SECURE_NOROOT_ALL_LOCKED, 0, 0, 0) != 0:
        # userns: stay the (mapped) user; exec as its uid 0 must not grant capabilities either.
        raise OSError("prctl(PR_SET_SECUREBITS) failed")
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError("prctl(PR_SET_NO_NEW_PRIVS) failed")


def _end_with_grader(pid: int, start: str) -> None:
    """End the namespace if the grader dies without ending it (killed, out of memory).

    The init still sees the grader's /proc (the new one is mounted in the learner's root only)."""
    import threading
    import time

    def watch():
        while True:
            time.sleep(0.5)
            try:
                with open(f"/proc/{pid}/stat") as f:
                    alive = f.read().rsplit(")", 1)[1].split()[19] == start
            except (OSError, IndexError):
                alive = False
            if not alive:
                os._exit(0)

    threading.Thread(target=watch, daemon=True).start()


def _init(spec_path: str) -> None:
    with open(spec_path) as f:
        spec = json.load(f)
    try:
        if spec["mode"] == "weak":
            _limit(spec)
            os.chdir(spec["cwd"])
            os.execve(spec["argv"][0], spec["argv"], spec["env"])
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
            signal.signal(sig, signal.SIG_IGN)          # the kernel gets SIGINT; its init stays
        _build_root(spec)
        if spec.get("net"):
            _loopback_up()
    except Exception as exc:
        with open(spec["log"], "a") as log:
            log.write(f"sandbox init failed: {type(exc).__name__}: {exc}\n")
        os._exit(70)
    log = open(spec["log"], "a")           # the child's errors: its stderr may go nowhere
    child = os.fork()
    if child == 0:
        try:
            for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
                signal.signal(sig, signal.SIG_DFL)
            os.chroot(spec["root"])
            os.chdir(spec["cwd"])
            _limit(spec)
            _drop_privileges(spec)
            os.execve(spec["argv"][0], spec["argv"], spec["env"])
        except Exception as exc:
            log.write(f"sandbox: cannot start {spec['argv'][0]}: {type(exc).__name__}: {exc}\n")
            log.flush()
        os._exit(71)
    log.close()
    _end_with_grader(*spec["grader"])
    # pid 1 of the namespace: reap orphans; when the command ends, end (and so end the namespace).
    while True:
        pid, status = os.wait()
        if pid == child:
            os._exit(os.waitstatus_to_exitcode(status) & 0xFF)


if __name__ == "__main__":
    _init(sys.argv[1])
