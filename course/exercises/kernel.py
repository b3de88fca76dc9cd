"""A fresh Jupyter kernel that runs code with a deadline and survives what learners' code does.

`Kernel.run(code, timeout)` returns an `Outcome` whose status is

- 'ok'       the code finished;
- 'error'    it raised (the message is `ename: evalue`);
- 'timeout'  it ran past `timeout` and was interrupted (KeyboardInterrupt), the kernel lives on;
- 'hung'     it ran past `timeout` and ignored the interrupt: call `restart()`;
- 'crashed'  the kernel process died (os._exit, a segfault, out of memory): call `restart()`.

The kernel is the `python3` kernelspec, run by this interpreter (jupyter_client substitutes
sys.executable for 'python'). Given a `sandbox` (course.exercises.sandbox), it runs isolated in the
sandbox's private folder, with the sandbox's environment only; its connection file lives in that
folder, where no other kernel can see it, and where the sandbox cuts the network it talks over Unix
sockets in the sandbox's socket folder instead of localhost TCP.
Without one, it runs in `cwd` with this package first on
PYTHONPATH so that the learner's kernel imports the same `course` as the grader.
"""
from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from queue import Empty

__all__ = ["Outcome", "Kernel", "KernelStartError"]

_PACKAGE_PARENT = str(Path(__file__).resolve().parent.parent.parent)


class KernelStartError(RuntimeError):
    """No kernel could be started."""


@dataclass
class Outcome:
    status: str
    stdout: str = ""
    error: str = ""
    seconds: float = 0.0


def _sandboxed_manager(sandbox, kernel_name: str, env: dict, cwd: str):
    """A KernelManager whose kernel command runs inside `sandbox`, connection file included."""
    from jupyter_client import KernelManager

    class SandboxedKernelManager(KernelManager):
        def format_kernel_cmd(self, extra_arguments=None):
            # Called once the connection file is written: the sandbox takes it over with the folder.
            return sandbox.command(super().format_kernel_cmd(extra_arguments), env=env, cwd=cwd)

    km = SandboxedKernelManager(kernel_name=kernel_name) if sandbox.socket_prefix is None else \
        SandboxedKernelManager(kernel_name=kernel_name, transport="ipc", ip=sandbox.socket_prefix)
    km.connection_file = str(sandbox.runtime_dir / f"kernel-{os.urandom(4).hex()}.json")
    return km


class Kernel:
    """One kernel process at a time; `restart()` replaces it with a fresh one."""

    def __init__(self, *, cwd: str | Path | None = None, env: dict | None = None, kernel_name: str = "python3",
                 startup_timeout: float = 60.0, interrupt_grace: float = 5.0, sandbox=None):
        self.sandbox, self.kernel_name = sandbox, kernel_name
        self.cwd = str(cwd or sandbox.workdir)
        self.startup_timeout, self.interrupt_grace = startup_timeout, interrupt_grace
        if sandbox is not None:
            self.env = sandbox.env(env)
        else:
            base = dict(os.environ)
            base.update(env or {})
            path = base.get("PYTHONPATH", "")
            base["PYTHONPATH"] = _PACKAGE_PARENT + (os.pathsep + path if path else "")
            self.env = base
        self.km = self.kc = None
        self._pid = None

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> "Kernel":
        from jupyter_client import KernelManager
        try:
            self.km = KernelManager(kernel_name=self.kernel_name) if self.sandbox is None else \
                _sandboxed_manager(self.sandbox, self.kernel_name, self.env, self.cwd)
            # The kernel's own stdout/stderr (banners, transport warnings, crash dumps) is not the
            # learner's output, which comes over the iopub channel.
            self.km.start_kernel(cwd=self.cwd, env=self.env, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
            if self.sandbox is not None:
                self._pid = self.km.provisioner.pid
            self.kc = self.km.client()
            self.kc.start_channels()
            self.kc.wait_for_ready(timeout=self.startup_timeout)
            if self.sandbox is not None:
                self.sandbox.started(self._pid)
        except Exception as exc:
            log = self.sandbox.init_log() if self.sandbox is not None else ""
            self.shutdown()
            if log:
                raise KernelStartError(f"The sandbox around the kernel failed: {log}. Grade with "
                                       f"--sandbox weak to run without it.") from exc
            raise KernelStartError(
                f"Could not start a '{self.kernel_name}' Jupyter kernel: {type(exc).__name__}: {exc}. "
                f"Install ipykernel in this environment (pip install ipykernel), or register one with "
                f"`python -m ipykernel install --sys-prefix`.") from exc
        return self

    def shutdown(self) -> None:
        if self.kc is not None:
            try:
                self.kc.stop_channels()
            except Exception:
                pass
        if self.sandbox is not None and self._pid is not None:
            # Not only the kernel: every process it started, however detached, ends here.
            self.sandbox.end(self._pid)
        if self.km is not None:
            try:
                self.km.shutdown_kernel(now=True)
            except Exception:
                pass
        self.km = self.kc = None
        self._pid = None

    def restart(self) -> None:
        """Throw the kernel away and start a fresh one (new process, new ports, empty namespace)."""
        self.shutdown()
        self.start()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.shutdown()

    def alive(self) -> bool:
        try:
            return self.km is not None and self.km.is_alive()
        except Exception:
            return False

    # -- running code ------------------------------------------------------------------------------
    def run(self, code: str, timeout: float, *, store_history: bool = True) -> Outcome:
        start = time.monotonic()
        msg_id = self.kc.execute(code, store_history=store_history, allow_stdin=False, stop_on_error=False)
        stdout, error = [], ""
        deadline = start + timeout
        interrupted_at = None
        while True:
            now = time.monotonic()
            if interrupted_at is None and now > deadline:
                try:
                    self.km.interrupt_kernel()
                except Exception:
                    pass
                interrupted_at = now
            if interrupted_at is not None and now > interrupted_at + self.interrupt_grace:
                return Outcome("hung", "".join(stdout), error, now - start)
            try:
                msg = self.kc.get_iopub_msg(timeout=0.2)
            except Empty:
                if not self.alive():
                    return Outcome("crashed", "".join(stdout), error, time.monotonic() - start)
                continue
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "stream" and content.get("name") == "stdout":
                stdout.append(content.get("text", ""))
            elif kind == "error":
                error = f"{content.get('ename', 'Error')}: {content.get('evalue', '')}"
            elif kind == "status" and content.get("execution_state") == "idle":
                seconds = time.monotonic() - start
                if interrupted_at is not None:
                    return Outcome("timeout", "".join(stdout), error, seconds)
                return Outcome("error" if error else "ok", "".join(stdout), error, seconds)
