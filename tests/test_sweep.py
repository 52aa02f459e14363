"""`catgan sweep`: combinations, side-by-side runs, resume after a stop, the summary."""
import json
import os
import signal
import subprocess
import sys

import pytest

from catgan.train import sweep
from conftest import ROOT, wait_for


def test_vary_parses_keys_and_values_and_names_each_combination():
    vary = sweep.parse_vary(["lr=5e-5,1e-4", "r1-gamma=0.1, 1"])
    assert vary == {"lr": ["5e-5", "1e-4"], "r1_gamma": ["0.1", "1"]}
    names = [sweep.run_name(c) for c in sweep.combinations(vary)]
    assert names == ["lr-5e-5_r1_gamma-0.1", "lr-5e-5_r1_gamma-1", "lr-1e-4_r1_gamma-0.1", "lr-1e-4_r1_gamma-1"]
    for bad in (["lr"], ["lr="], ["1x=3"]):
        with pytest.raises(ValueError, match="KEY=VALUE"):
            sweep.parse_vary(bad)
    with pytest.raises(ValueError, match="twice"):
        sweep.parse_vary(["lr=1", "lr=2"])


def test_a_varied_train_option_gets_its_flag_and_a_family_key_gets_set(tmp_path):
    cmd = sweep.train_command(["--model", "dcgan"], {"lr": "1e-4", "g_top": "16"}, tmp_path / "r", threads=1)
    assert cmd[cmd.index("--lr") + 1] == "1e-4" and "g_top=16" in cmd
    assert cmd[-4:] == ["--out", str(tmp_path / "r"), "--threads", "1"]


def test_a_folder_holding_another_sweep_is_refused(tmp_path):
    sweep.plan(tmp_path, ["--model", "dcgan"], {"lr": ["1e-4"]})
    sweep.plan(tmp_path, ["--model", "dcgan"], {"lr": ["1e-4"]})            # the same sweep: resumes
    with pytest.raises(ValueError, match="different sweep"):
        sweep.plan(tmp_path, ["--model", "dcgan"], {"lr": ["2e-4"]})


def _sweep_cmd(tiny_data, out, kimg):
    return [sys.executable, "-m", "catgan", "sweep", "--model", "dcgan", "--data", str(tiny_data.path),
            "--resolution", "32", "--batch", "8", "--steps", "100000", "--kimg", str(kimg), "--set", "ngf=8",
            "--set", "ndf=8", "--eval-kimg", "0.08", "--eval-n", "48", "--log-every", "1",
            "--checkpoint-every", "2", "--vary", "seed=1,2", "--out", str(out), "--parallel", "2"]


def test_two_runs_go_side_by_side_stop_and_resume_to_the_end(tiny_data, tmp_path):
    out = tmp_path / "sw"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(_sweep_cmd(tiny_data, out, kimg=0.8), cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)

    def both_measured():
        return all(len(sweep.read_quality(out / f"seed-{s}")) >= 1 for s in (1, 2))
    wait_for(both_measured, timeout=240)
    statuses = [json.loads((out / f"seed-{s}" / "status.json").read_text()) for s in (1, 2)]
    assert all(s["state"] == "running" for s in statuses)          # side by side, not one after the other
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(timeout=120)
    stopped = {r["run"]: r for r in sweep.summary(out)}
    assert all(r["state"] == "stopped" for r in stopped.values())

    done = subprocess.run(_sweep_cmd(tiny_data, out, kimg=0.8), cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr
    rows = {r["run"]: r for r in sweep.summary(out)}
    for name in ("seed-1", "seed-2"):
        r = rows[name]
        assert r["state"] == "finished" and r["k images"] == pytest.approx(0.8, abs=0.01)
        assert r["best fd"] <= r["final fd"] and r["seed"] == name[-1]
        steps = [q["step"] for q in sweep.read_quality(out / name)]
        assert steps == sorted(set(steps)) and steps[-1] == 100        # no point measured twice over the stop
        assert name in done.stdout                                    # the printed table
    assert json.loads((out / "summary.json").read_text())["rows"]
