"""Start N processes of one program on this machine, as `torchrun --nproc_per_node N` does.

Each process gets the same command line and its own RANK / LOCAL_RANK (0..N-1), with
WORLD_SIZE=N, LOCAL_WORLD_SIZE=N, MASTER_ADDR=127.0.0.1 and a free MASTER_PORT. Rank 0's output
passes through as it is; the other ranks' lines are prefixed with "[rank r]". If one process
fails, the others are stopped and its exit status is returned (torchrun's behaviour).

On several machines, use torchrun itself with the same program: the processes read the same
variables (`env.py`), so nothing in the training code changes.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time

__all__ = ["free_port", "worker_env", "launch"]


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def worker_env(rank: int, nproc: int, port: int, *, addr: str = "127.0.0.1", base=None) -> dict:
    """The environment of process `rank` of `nproc` (torchrun's variables on top of `base`)."""
    env = dict(os.environ if base is None else base)
    env.update(RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE=str(nproc), LOCAL_WORLD_SIZE=str(nproc),
               GROUP_RANK="0", MASTER_ADDR=addr, MASTER_PORT=str(port), PYTHONUNBUFFERED="1")
    return env


def _pump(pipe, out, prefix):
    for line in iter(pipe.readline, ""):
        out.write(prefix + line)
        out.flush()
    pipe.close()


def launch(nproc: int, args, *, module: str | None = "course.cli", env=None, timeout: float | None = None,
           stdout=None, stderr=None) -> int:
    """Run `python -m module *args` (or `python *args` when module is None) in `nproc` processes.

    Returns 0 when every process succeeded, else the first failing exit status (124 on timeout).
    Output goes to `stdout`/`stderr` (default: this process's sys.stdout/sys.stderr, so it also
    shows in a notebook).
    """
    if not isinstance(nproc, int) or nproc < 1:
        raise ValueError(f"--nproc expects a positive integer (the number of processes); got {nproc!r}.")
    stdout, stderr = stdout or sys.stdout, stderr or sys.stderr
    port = free_port()
    command = [sys.executable] + (["-m", module] if module else []) + [str(a) for a in args]
    procs, pumps = [], []
    for rank in range(nproc):
        p = subprocess.Popen(command, env=worker_env(rank, nproc, port, base=env), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, bufsize=1)
        prefix = "" if rank == 0 else f"[rank {rank}] "
        for pipe, out in ((p.stdout, stdout), (p.stderr, stderr)):
            t = threading.Thread(target=_pump, args=(pipe, out, prefix), daemon=True)
            t.start()
            pumps.append(t)
        procs.append(p)
    deadline = None if timeout is None else time.monotonic() + timeout
    status = 0
    try:
        while [p.poll() for p in procs].count(None):                     # poll every process, each time
            failed = [p.returncode for p in procs if p.returncode not in (None, 0)]
            if failed:
                status = failed[0]
                break
            if deadline is not None and time.monotonic() > deadline:
                status = 124
                print(f"course.distributed.launch: stopped after {timeout:.0f} s (timeout).", file=stderr)
                break
            time.sleep(0.05)
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        for t in pumps:
            t.join(timeout=5)
    if status == 0:
        status = next((p.returncode for p in procs if p.returncode != 0), 0)
    return status
