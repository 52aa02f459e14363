import subprocess
import sys

import pytest

from catgan.audit import quiz
from conftest import ROOT


def test_a_round_is_fixed_by_its_seed():
    a, b = quiz.make_round(41, 1000), quiz.make_round(41, 1000)
    assert a == b and len(set(a.reals)) == 5 and 0 <= a.fake_position < 6
    assert quiz.make_round(42, 1000) != a


def test_tallies_add_up_and_survive_a_new_process(tmp_path):
    path = tmp_path / "tallies.json"
    quiz.record("m", 4, 1, path)
    quiz.record("m", 4, 3, path)
    code = f"from catgan.audit import quiz; from pathlib import Path; print(quiz.read_tallies(Path({str(path)!r})))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert "'m': {'rounds': 8, 'found': 4}" in out
    d = quiz.detection("m", path)
    assert d["rate"] == 0.5 and d["low"] < 0.5 < d["high"] and d["chance"] == pytest.approx(1 / 6)


def test_two_writers_at_once_both_count(tmp_path):
    path = tmp_path / "tallies.json"
    code = ("import sys; from pathlib import Path; from catgan.audit import quiz\n"
            "for _ in range(25): quiz.record('m', 1, 1, Path(sys.argv[1]))")
    procs = [subprocess.Popen([sys.executable, "-c", code, str(path)], cwd=ROOT) for _ in range(2)]
    assert all(p.wait() == 0 for p in procs)
    assert quiz.read_tallies(path)["m"] == {"rounds": 50, "found": 50}


def test_a_damaged_tally_file_reads_as_empty_and_bad_counts_are_refused(tmp_path):
    path = tmp_path / "tallies.json"
    path.write_text("{not json")
    assert quiz.read_tallies(path) == {}
    with pytest.raises(ValueError, match="between 0 and rounds"):
        quiz.record("m", 2, 3, path)


def test_wilson_interval_matches_known_values():
    lo, hi = quiz.wilson(5, 10)
    assert lo == pytest.approx(0.2366, abs=1e-3) and hi == pytest.approx(0.7634, abs=1e-3)
    assert quiz.wilson(0, 20)[0] == 0.0 and quiz.wilson(0, 0) == (0.0, 1.0)


def test_the_blind_quiz_png_holds_the_sample_where_the_key_says_and_scores_picks(tiny_data, tmp_path):
    import json
    import numpy as np
    from PIL import Image
    from catgan import load_generator
    from catgan.train.trainer import CHECKPOINT, TrainConfig, train
    from conftest import TINY
    train(TrainConfig(model="dcgan", data=str(tiny_data.path), out=str(tmp_path / "run"), steps=2, resolution=32,
                      batch=8, threads=1, progress=False, overrides=dict(TINY["dcgan"])))
    model = tmp_path / "run" / CHECKPOINT
    run = lambda *a: subprocess.run([sys.executable, str(ROOT / "scripts" / "blind_quiz.py"), *a], cwd=ROOT,
                                    capture_output=True, text=True, check=True)
    run(str(model), "--out", str(tmp_path / "q"), "--rows", "3")
    key = json.loads((tmp_path / "q" / "key.json").read_text())
    sheet = np.asarray(Image.open(tmp_path / "q" / "rows.png").convert("RGB"))
    g = load_generator(model)
    cell = 2 * (32 + 2)                                       # the grid of 32 px tiles and 2 px gaps, at 2x
    for row, (pos, seed) in enumerate(zip(key["fake_positions"], key["fake_seeds"])):
        fake = g.generate(g.latents(seed, 1))[0].repeat(2, 0).repeat(2, 1)
        y, x = row * cell, (pos - 1) * cell
        assert np.array_equal(sheet[y:y + 64, x:x + 64], fake)
    picks = ",".join(str(p) for p in key["fake_positions"][:2]) + f",{key['fake_positions'][2] % 6 + 1}"
    assert json.loads(run("--score", str(tmp_path / "q"), picks).stdout)["found"] == 2


def test_the_detectors_quiz_beside_people_says_when_they_disagree_and_by_how_much():
    from catgan.audit.quiz import people_beside_machine
    apart = people_beside_machine(0.22, 8, 10, who="the latest blind quiz")
    assert "8 of 10" in apart and "they disagree" in apart and "finds fewer fakes than" in apart
    assert "they agree" in people_beside_machine(0.7, 8, 10)
    assert people_beside_machine(None, 8, 10) is None and people_beside_machine(0.5, 0, 0) is None
