import os
import signal

import pytest

from catgan import jobs
from catgan.train.trainer import read_status
from conftest import train_args, wait_for


def test_one_job_at_a_time_stop_and_resume(tiny_cfg, tmp_path):
    runs = tmp_path / "runs"
    cfg = tiny_cfg("dcgan", out="runs/a")
    job = jobs.launch(runs, tmp_path / "runs/a", train_args(cfg, 100_000))
    try:
        assert jobs.active_job(runs).pid == job.pid
        with pytest.raises(jobs.JobBusy, match="already running"):
            jobs.launch(runs, tmp_path / "runs/b", train_args(cfg, 10))
        wait_for(lambda: (read_status(cfg.out) or {}).get("step", 0) >= 3)
        assert jobs.run_state(tmp_path / "runs/a", runs)["state"] == "running"
    finally:
        assert jobs.stop(job)
    assert jobs.active_job(runs) is None
    state = jobs.run_state(tmp_path / "runs/a", runs)
    assert state["state"] == "stopped"
    stopped_at = state["step"]
    job = jobs.launch(runs, tmp_path / "runs/a", train_args(cfg, stopped_at + 3))      # resume
    wait_for(lambda: not jobs._alive(job.pid))
    assert read_status(cfg.out)["state"] == "finished" and read_status(cfg.out)["step"] == stopped_at + 3


def test_a_killed_job_shows_as_crashed_and_frees_the_lock(tiny_cfg, tmp_path):
    runs = tmp_path / "runs"
    cfg = tiny_cfg("dcgan", out="runs/k")
    job = jobs.launch(runs, tmp_path / "runs/k", train_args(cfg, 100_000))
    wait_for(lambda: (read_status(cfg.out) or {}).get("step", 0) >= 1)
    os.killpg(job.pid, signal.SIGKILL)
    wait_for(lambda: not jobs._alive(job.pid))
    assert jobs.active_job(runs) is None
    state = jobs.run_state(tmp_path / "runs/k", runs)
    assert state["state"] == "crashed" and "killed" in state["error"]


def test_a_failing_job_reports_its_error(tiny_cfg, tmp_path):
    runs = tmp_path / "runs"
    cfg = tiny_cfg("dcgan", out="runs/f", data=str(tmp_path / "missing"))
    job = jobs.launch(runs, tmp_path / "runs/f", train_args(cfg, 5))
    wait_for(lambda: not jobs._alive(job.pid))
    state = jobs.run_state(tmp_path / "runs/f", runs)
    assert "does not exist" in state["log_tail"]
