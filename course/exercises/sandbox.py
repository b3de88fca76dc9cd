"""Start a learner's command isolated: a private folder, a narrow view of the files, limits, cleanup.

`Sandbox()` makes a private temporary folder (`workdir`, the only writable place the command
sees); `command(argv)` returns the argv that runs `argv` isolated; `end(pid)` kills every process
the command left behind; `close()` ends it all and removes the folder. The mode is picked by
`choose_mode()`:

- "namespace" (the grader is root and `unshare` works: CI, containers). New mount, pid, IPC, net
  namespaces whose init (`sandbox_init.py`, run as a script) builds a fresh root on a tmpfs
  holding only the system folders, the Python interpreter, the virtualenv and the `course` package
  (all read-only) and `workdir` (writable), then runs the command as `nobody` (uid 65534, no
  groups, no new privileges) with resource limits. Other submissions, `solutions/`, the repository, root's home
  and the grader's processes are not in that view. When the init ends, the kernel ends every
  process of the namespace (detached children, double forks), and `unshare --kill-child` ends the
  init when the grader kills `unshare`. A new network namespace leaves it only its own localhost;
  the kernel reaches the grader through Unix sockets in `socket_dir`.
- "userns" (an ordinary user where unprivileged user namespaces are allowed). The same view and
  cleanup inside a new user namespace; the command keeps the grader's user id (it owns nothing
  writable but its folder) and runs without any capability. Its processes and the limits on their
  number count with the user's other processes.
- "weak" (an ordinary user without that power; or forced for testing). The command runs as the
  grader's own user with resource limits, a private working folder and a private copy of the
  package first on PYTHONPATH; its processes are found by a marker in their environment and killed.
  It does not hide files the user can read or write, stop signals to the grader, or cut the network.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

__all__ = ["MODES", "NOBODY", "Limits", "Sandbox", "SandboxError", "choose_mode", "read_back"]

MODES = ("namespace", "userns", "weak")
_ISOLATED = ("namespace", "userns")       # the modes that build a private view in new namespaces
NOBODY = 65534
_MARKER = "COURSE_SANDBOX"                 # env var naming the sandbox a process belongs to
_PACKAGE = Path(__file__).resolve().parent.parent          # the `course` package folder
_INIT = Path(__file__).resolve().with_name("sandbox_init.py")
_SYSTEM = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/sys")


class SandboxError(RuntimeError):
    """The sandbox could not be set up (the mode asked for is not available here)."""


@dataclass(frozen=True)
class Limits:
    """Resource limits of the learner's processes (None: unlimited)."""
    cpu_seconds: int | None = 3600          # CPU time of one process (all its threads)
    memory_bytes: int | None = 16 << 30     # address space; torch alone maps ~3.5 GiB
    processes: int | None = 1024            # processes and threads of the sandbox user
    file_bytes: int | None = 1 << 30        # largest file it may write
    tmp_bytes: int = 1 << 30                # size of its private /tmp and /dev/shm


def _short_temp_dir() -> str:
    """The temporary folder, or /tmp where its path leaves no room for socket names (108 bytes)."""
    base = tempfile.gettempdir()
    return base if len(base) <= 80 or not os.path.isdir("/tmp") else "/tmp"


def _runs(cmd) -> bool:
    try:
        return subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, timeout=60).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


@lru_cache(maxsize=None)
def _works(mode: str) -> bool:
    """Whether `mode` can start a command here (tried once per process)."""
    if mode == "weak":
        return True
    if (mode == "namespace" and os.geteuid() != 0) or not shutil.which("unshare"):
        return False
    with Sandbox(mode=mode, _probe=True) as box:
        return _runs(box.command([sys.executable, "-I", "-S", "-c", "pass"]))


def choose_mode(requested: str | None = None) -> str:
    """The strongest mode that works here (namespace, userns, weak); `requested` forces one
    (SandboxError if it does not work here)."""
    if requested in (None, "auto"):
        return next(m for m in MODES if _works(m))
    if requested not in MODES:
        raise SandboxError(f"sandbox mode must be one of auto, {', '.join(MODES)}; got {requested!r}.")
    if not _works(requested):
        need = ("root and a working `unshare --mount --pid` (util-linux): run as root, or in a container "
                "with CAP_SYS_ADMIN" if requested == "namespace" else
                "unprivileged user namespaces (`unshare --user --map-root-user` from util-linux); "
                "an administrator enables them with sysctl kernel.unprivileged_userns_clone=1")
        raise SandboxError(f"sandbox mode {requested!r} needs {need}; it failed here. "
                           f"Use --sandbox auto to take the strongest mode that works.")
    return requested


def _mount_points() -> list:
    """(kind, source, target) entries of the namespace view, paths as the grader sees them."""
    entries, seen = [], []

    def bind(path, *, writable=False):
        real = os.path.realpath(path)
        if os.path.exists(real) and not any(real == s or real.startswith(s + os.sep) for s in seen):
            seen.append(real)
            entries.append(("rw" if writable else "ro", real, real))

    for path in _SYSTEM:
        if os.path.islink(path):
            entries.append(("link", os.readlink(path), path))
        elif os.path.isdir(path):
            bind(path)
    for path in (sys.base_prefix, sys.base_exec_prefix, sys.prefix, sys.exec_prefix,
                 os.path.dirname(os.path.realpath(sys.executable)), _PACKAGE):
        bind(path)
    data = os.environ.get("COURSE_DATA")
    if data and os.path.isdir(data):
        bind(data)
    return entries


class Sandbox:
    """A private folder and the way to run commands isolated in it (see the module docstring)."""

    def __init__(self, *, mode: str | None = None, limits: Limits | None = None, readonly=(),
                 _probe: bool = False):
        self.mode = mode if _probe else choose_mode(mode)
        self.limits = limits or Limits()
        self.readonly = [str(Path(p).resolve()) for p in readonly]
        self.tag = f"{os.getpid()}-{os.urandom(6).hex()}"
        self.root_dir = Path(tempfile.mkdtemp(prefix="course-sandbox-"))   # mode 700: only the grader
        self.workdir = self.root_dir / "work"
        self.home = self.workdir / ".home"
        for d in (self.workdir, self.home, self.home / ".ipython", self.home / ".config",
                  self.home / ".cache", self.home / ".local/share/jupyter/runtime"):
            d.mkdir(parents=True, exist_ok=True)
        self.package_parent = str(_PACKAGE.parent)
        if self.mode == "weak" and not _probe:
            # A private copy (with its compiled files) first on PYTHONPATH: a learner who writes
            # through `course.__file__` changes this copy only.
            copy = self.root_dir / "package"
            linked = []

            def data_folders(folder, names):      # data (MNIST, 11 MB) is linked, not copied
                found = [n for n in names if n == "files" and os.path.isdir(os.path.join(folder, n))]
                linked.extend(os.path.join(folder, n) for n in found)
                return found

            shutil.copytree(_PACKAGE, copy / _PACKAGE.name, symlinks=True, ignore=data_folders)
            for folder in linked:
                os.symlink(folder, copy / _PACKAGE.name / os.path.relpath(folder, _PACKAGE))
            self.package_parent = str(copy)
        # The namespace modes also cut the network: the kernel then talks to the grader through
        # Unix sockets in a folder of its own (a short path: a socket's name is at most ~100 bytes).
        self.isolates_network = self.mode in _ISOLATED         # the probe tries that too
        self.socket_dir = Path(tempfile.mkdtemp(prefix="cs-", dir=_short_temp_dir())) \
            if self.isolates_network else None
        self._inits: dict = {}           # launched pid -> its namespace init (host pid)

    # -- what the command sees ----------------------------------------------------------------------
    @property
    def runtime_dir(self) -> Path:
        return self.home / ".local/share/jupyter/runtime"

    @property
    def socket_prefix(self) -> str | None:
        """Where the kernel's Unix sockets go (their names add `-N`); None: it may use TCP."""
        return str(self.socket_dir / "k") if self.socket_dir else None

    def add_file(self, source: str | Path, name: str | None = None) -> Path:
        """Copy `source` into the private folder (the learner's code may change the copy only)."""
        target = self.workdir / (name or Path(source).name)
        shutil.copyfile(source, target)
        return target

    def env(self, extra: dict | None = None) -> dict:
        """The command's whole environment: nothing of the grader's leaks but the locale."""
        home = str(self.home)
        env = {"PATH": os.pathsep.join([os.path.dirname(sys.executable), "/usr/local/bin", "/usr/bin", "/bin"]),
               "HOME": home, "USER": "nobody" if self.mode == "namespace" else os.environ.get("USER", ""),
               "IPYTHONDIR": f"{home}/.ipython", "MPLCONFIGDIR": f"{home}/.config/matplotlib",
               "JUPYTER_RUNTIME_DIR": str(self.runtime_dir), "XDG_CACHE_HOME": f"{home}/.cache",
               "XDG_CONFIG_HOME": f"{home}/.config",
               "TMPDIR": "/tmp" if self.mode in _ISOLATED else str(self.workdir),
               "PYTHONPATH": self.package_parent, "PYTHONDONTWRITEBYTECODE": "1", _MARKER: self.tag,
               # ipykernel ends itself when this pid dies; "1" turns that off: the init watches instead.
               "JPY_PARENT_PID": "1" if self.mode in _ISOLATED else str(os.getpid())}
        for key in ("LANG", "LC_ALL", "LC_CTYPE", "TZ", "COURSE_DATA"):
            if key in os.environ:
                env[key] = os.environ[key]
        env.update(extra or {})
        return env

    def command(self, argv, *, env: dict | None = None, cwd: str | Path | None = None) -> list:
        """The argv that runs `argv` isolated, with `env` as its whole environment, in `cwd`."""
        spec = {"mode": self.mode, "argv": [str(a) for a in argv], "env": env or self.env(),
                "cwd": str(cwd or self.workdir), "limits": asdict(self.limits), "uid": NOBODY, "gid": NOBODY,
                "root": str(self.root_dir / "root"), "workdir": str(self.workdir),
                "log": str(self.root_dir / "init.log"), "grader": [os.getpid(), _start_time(os.getpid())]}
        if self.mode in _ISOLATED:
            (self.root_dir / "root").mkdir(exist_ok=True)
            spec["mounts"] = _mount_points() + [("ro", p, p) for p in self.readonly] + \
                [("rw", str(d), str(d)) for d in (self.workdir, self.socket_dir) if d is not None]
            spec["net"] = self.isolates_network
        if self.mode == "namespace":
            self._give_workdir(NOBODY)
        elif spec["limits"]["processes"] is not None:
            # The limit counts every thread of this user: leave room for the ones running now.
            spec["limits"]["processes"] += sum(_threads(p) for p in _processes_of(os.getuid()))
        spec_path = self.root_dir / f"spec-{os.urandom(4).hex()}.json"
        spec_path.write_text(json.dumps(spec))
        # -I -S: the init trusts nothing of the environment and needs only the standard library.
        init = [sys.executable, "-I", "-S", str(_INIT), str(spec_path)]
        # --ipc: no System V shared memory or message queue in common with other kernels either.
        net = ["--net"] if self.isolates_network else []
        if self.mode == "namespace":
            return ["unshare", "--mount", "--pid", "--ipc", *net, "--fork", "--kill-child", *init]
        if self.mode == "userns":
            return ["unshare", "--user", "--map-root-user", "--mount", "--pid", "--ipc", *net, "--fork",
                    "--kill-child", *init]
        return init

    def _give_workdir(self, uid: int) -> None:
        for top in (self.workdir, self.socket_dir):
            for folder, dirs, files in os.walk(top) if top is not None else ():
                for name in [folder, *(os.path.join(folder, n) for n in dirs + files)]:
                    os.lchown(name, uid, uid)

    def init_log(self) -> str:
        try:
            return (self.root_dir / "init.log").read_text().strip()
        except OSError:
            return ""

    # -- ending it ------------------------------------------------------------------------------------
    def started(self, pid: int) -> None:
        """Note the pid of a launched command (the `unshare` process) so `end` can find its init."""
        if self.mode in _ISOLATED:
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                children = _children(pid)
                if children:
                    self._inits[pid] = children[0]
                    return
                time.sleep(0.01)

    def end(self, pid: int | None = None) -> None:
        """Kill the command launched as `pid` (all launched ones if None) and everything it started."""
        if self.mode in _ISOLATED:
            for launched in ([pid] if pid is not None else list(self._inits)):
                init = self._inits.pop(launched, None) or next(iter(_children(launched)), None)
                for p in (init, launched):
                    _kill(p)
                if init is not None:
                    _wait_gone(init)
        else:
            _kill_marked(self.tag)

    def close(self) -> None:
        self.end()
        if self.mode in _ISOLATED:                # belt and braces: nothing of this sandbox may live on
            _kill_marked(self.tag, uid=NOBODY if self.mode == "namespace" else None)
        shutil.rmtree(self.root_dir, ignore_errors=True)
        if self.socket_dir is not None:
            shutil.rmtree(self.socket_dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def read_back(path: str | Path, limit: int) -> bytes:
    """At most `limit` bytes of a regular file the sandboxed code wrote; OSError otherwise.

    The grader reads with more rights than the writer: a symlink planted there (to a private file
    of the grader's) is not followed, and a FIFO or device is refused instead of blocking."""
    import stat
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(f"{path}: not a regular file")
        with os.fdopen(os.dup(fd), "rb") as f:
            return f.read(limit)
    finally:
        os.close(fd)


def _children(pid: int) -> list:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except (OSError, ValueError):
        return []


def _kill(pid) -> None:
    if pid is not None:
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def _start_time(pid: int) -> str:
    """When `pid` started (clock ticks since boot), which tells it from a later process of that pid."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return "gone"


def _wait_gone(pid: int, timeout: float = 10.0) -> None:
    # A namespace's init turns zombie only after every other process of the namespace has exited.
    deadline = time.monotonic() + timeout
    while _state(pid) not in ("gone", "Z", "X") and time.monotonic() < deadline:
        time.sleep(0.01)


def _processes_of(uid: int) -> list:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.stat(f"/proc/{entry}").st_uid == uid:
                    found.append(int(entry))
            except OSError:
                continue
    return found


def _threads(pid: int) -> int:
    try:
        return len(os.listdir(f"/proc/{pid}/task"))
    except OSError:
        return 0


def _marked(tag: str, uid: int | None) -> list:
    needle = f"{_MARKER}={tag}".encode()
    found = []
    for pid in _processes_of(os.getuid() if uid is None else uid):
        if pid == os.getpid():
            continue
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                if needle in f.read().split(b"\0"):
                    found.append(pid)
        except OSError:
            continue
    return found


def _kill_marked(tag: str, uid: int | None = None) -> None:
    """SIGKILL every process whose environment carries this sandbox's marker, until none is left."""
    for _ in range(50):                 # a process may fork while we look: look again
        found = _marked(tag, uid)
        if not found:
            return
        for pid in found:
            _kill(pid)
        time.sleep(0.02)
