"""Background jobs (training, evaluation): launch, find again, stop.

One job at a time. The launcher takes an exclusive flock on `<runs>/.job.lock` and
hands the locked file to the child process, then lets go of its own copy: the lock
lives exactly as long as the child, survives the app restarting, and is released by
the kernel if the child dies in any way. Two tabs pressing Start race for the flock;
one wins, the other is told which job is running.
"""
from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from catgan.io import atomic_write_json
from catgan.train.trainer import read_status

LOCK_NAME, ACTIVE_NAME = ".job.lock", ".active.json"
STALE_SECONDS = 120          # no heartbeat for this long while "running" means the job is gone


class JobBusy(RuntimeError):
    pass


@dataclass
class Job:
    run: Path
    pid: int
    kind: str               # "train" or "eval"
    started: float

    @property
    def log(self) -> Path:
        return self.run / "log.txt"


def _lock_fd(runs: Path) -> int | None:
    """An fd holding the job lock, or None if another process holds it."""
    runs.mkdir(parents=True, exist_ok=True)
    fd = os.open(runs / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return fd
    except BlockingIOError:
        os.close(fd)
        return None


def active_job(runs: Path) -> Job | None:
    """The job that holds the lock right now, if any."""
    fd = _lock_fd(runs)
    if fd is not None:
        os.close(fd)
        return None
    try:
        info = json.loads((runs / ACTIVE_NAME).read_text())
        return Job(Path(info["run"]), int(info["pid"]), info["kind"], float(info["started"]))
    except (OSError, json.JSONDecodeError, KeyError):
        return Job(runs, -1, "unknown", 0.0)    # held, but by whom is not recorded yet


def launch(runs: Path, run: Path, args: list[str], kind: str = "train") -> Job:
    """Start `python -m catgan <args>` in its own session, logging to run/log.txt."""
    fd = _lock_fd(runs)
    if fd is None:
        job = active_job(runs)
        raise JobBusy(f"a {job.kind} job is already running ({job.run.name}); stop it or wait for it to finish")
    try:
        run.mkdir(parents=True, exist_ok=True)
        atomic_write_json(run / "job.json", {"kind": kind, "args": args, "launched": time.time()})
        with open(run / "log.txt", "ab") as log:
            proc = subprocess.Popen([sys.executable, "-m", "catgan", *args], stdout=log, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True, pass_fds=(fd,),
                                    cwd=Path(__file__).resolve().parent.parent,
                                    env={**os.environ, "PYTHONUNBUFFERED": "1"})
        job = Job(run, proc.pid, kind, time.time())
        atomic_write_json(runs / ACTIVE_NAME, {"run": str(run), "pid": proc.pid, "kind": kind, "started": job.started})
        return job
    finally:
        os.close(fd)                         # the child keeps its inherited copy of the lock


def stop(job: Job, wait: float = 30.0) -> bool:
    """SIGTERM the job's process group (the trainer checkpoints, then exits); True once it is gone."""
    if job.pid <= 0:
        return False
    try:
        os.killpg(job.pid, signal.SIGTERM)
    except ProcessLookupError:
        return True
    end = time.time() + wait
    while time.time() < end:
        if not _alive(job.pid):
            return True
        time.sleep(0.1)
    return False


def _alive(pid: int) -> bool:
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)     # reap it if it is our child
        if done == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


def run_state(run: Path, runs: Path) -> dict:
    """status.json, corrected for a job that died without saying so ('crashed'), plus the log's tail."""
    status = read_status(run) or {"state": "starting", "step": 0, "total": None}
    job = active_job(runs)
    running_here = job is not None and Path(job.run) == Path(run)
    if status.get("state") in ("running", "starting") and not running_here:
        status = {**status, "state": "crashed",
                  "error": status.get("error") or "the process ended without a final status (killed?)"}
    elif status.get("state") == "running" and time.time() - status.get("heartbeat", time.time()) > STALE_SECONDS:
        status = {**status, "state": "stalled"}
    status["log_tail"] = log_tail(run / "log.txt")
    return status


def log_tail(path: Path, lines: int = 20) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    rows = [ln for ln in text.replace("\r", "\n").splitlines() if ln.strip()]
    return "\n".join(rows[-lines:])
