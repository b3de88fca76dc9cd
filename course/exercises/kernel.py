"""A fresh Jupyter kernel that runs code with a deadline and survives what learners' code does.

`Kernel.run(code, timeout)` returns an `Outcome` whose status is

- 'ok'       the code finished;
- 'error'    it raised (the message is `ename: evalue`);
- 'timeout'  it ran past `timeout` and was interrupted (KeyboardInterrupt), the kernel lives on;
- 'hung'     it ran past `timeout` and ignored the interrupt: call `restart()`;
- 'crashed'  the kernel process died (os._exit, a segfault, out of memory): call `restart()`.

The kernel is the `python3` kernelspec, run by this interpreter (jupyter_client substitutes
sys.executable for 'python'), in the notebook's folder, with this package first on PYTHONPATH so
that the learner's kernel imports the same `course` as the grader.
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


class Kernel:
    """One kernel process at a time; `restart()` replaces it with a fresh one."""

    def __init__(self, *, cwd: str | Path, env: dict | None = None, kernel_name: str = "python3",
                 startup_timeout: float = 60.0, interrupt_grace: float = 5.0):
        self.cwd, self.kernel_name = str(cwd), kernel_name
        self.startup_timeout, self.interrupt_grace = startup_timeout, interrupt_grace
        base = dict(os.environ)
        base.update(env or {})
        path = base.get("PYTHONPATH", "")
        base["PYTHONPATH"] = _PACKAGE_PARENT + (os.pathsep + path if path else "")
        self.env = base
        self.km = self.kc = None

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> "Kernel":
        from jupyter_client import KernelManager
        try:
            self.km = KernelManager(kernel_name=self.kernel_name)
            # The kernel's own stderr (transport warnings, crash dumps) is not the learner's output.
            self.km.start_kernel(cwd=self.cwd, env=self.env, stderr=subprocess.DEVNULL)
            self.kc = self.km.client()
            self.kc.start_channels()
            self.kc.wait_for_ready(timeout=self.startup_timeout)
        except Exception as exc:
            self.shutdown()
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
        if self.km is not None:
            try:
                self.km.shutdown_kernel(now=True)
            except Exception:
                pass
        self.km = self.kc = None

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
