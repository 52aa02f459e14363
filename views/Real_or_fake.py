"""Real or fake? The second seed's game: one generated cat hides in each row of six."""
import secrets

import numpy as np
import streamlit as st

from catgan import media, ui
from catgan.audit import quiz
from catgan.audit import report as rep
from catgan.audit.neighbors import nearest_by_pixels

ROWS = 4
entry, g = ui.model_page(
    "Real or fake?",
    "Each row holds five training images and one cat this model made. Pick the fake in every row, "
    "then reveal. Your answers add to the model's tally: the share of fakes people find (chance is 1 in 6).")
ds = ui.training_set(g)
if "quiz_game" not in st.session_state:
    st.session_state.quiz_game = secrets.randbelow(2**24)
game = st.session_state.quiz_game
rounds = [quiz.make_round(game * ROWS + r, len(ds)) for r in range(ROWS)]
revealed = st.session_state.get("quiz_revealed") == game

fakes = ui.generate(g, np.concatenate([g.latents(rnd.fake_seed, 1) for rnd in rounds]))
near_d, near_i = nearest_by_pixels(ds.images, fakes) if revealed else (None, None)   # one pass for every row

picks = []
for r, (rnd, fake) in enumerate(zip(rounds, fakes)):
    reals = [ds.images[i] for i in rnd.reals]
    row = reals[:rnd.fake_position] + [fake] + reals[rnd.fake_position:]
    cols = st.columns(quiz.ROW)
    for i, (col, im) in enumerate(zip(cols, row)):
        col.image(media.png_bytes(media.upscale(im, 2)), caption=str(i + 1), output_format="PNG")
    picks.append(st.radio(f"Row {r + 1}: which is fake?", range(1, quiz.ROW + 1), index=None, horizontal=True,
                          key=f"pick_{game}_{r}", disabled=revealed))
    if revealed:
        pick = picks[-1]
        right = pick == rnd.fake_position + 1
        c1, c2 = st.columns([3, 1])
        c1.markdown(f"{'✅ Found' if right else '❌ Missed'}: the fake was **{rnd.fake_position + 1}**"
                    f"{'' if pick is None else f', you picked {pick}'} · "
                    f"{ui.explorer_link(entry.name, rnd.fake_seed)} in the explorer")
        c2.image(media.png_bytes(media.upscale(ds.images[int(near_i[r])], 1)), output_format="PNG",
                 caption=f"nearest training image #{int(near_i[r])} (pixel L2 {near_d[r]:.3g})")
    st.divider()

c1, c2 = st.columns(2)
if not revealed and c1.button("Reveal", type="primary", disabled=any(p is None for p in picks),
                              help="Pick one cat in every row first"):
    found = sum(p == rnd.fake_position + 1 for p, rnd in zip(picks, rounds))
    quiz.record(entry.name, ROWS, found)
    st.session_state.quiz_revealed = game
    st.rerun()
if c2.button("New rows"):
    st.session_state.quiz_game = (game + 1) % 2**24
    st.rerun()

d = quiz.detection(entry.name)
people, machine = st.columns(2)
if d["rounds"]:
    people.metric(f"People find {entry.name}'s fakes", f"{d['rate']:.0%}",
                  help=f"{d['found']} of {d['rounds']} rows; 95% interval {d['low']:.0%}–{d['high']:.0%}; "
                       f"chance {d['chance']:.0%}")
    people.caption(f"{d['found']} of {d['rounds']} rows · 95% interval {d['low']:.0%}–{d['high']:.0%} · "
                   f"chance {d['chance']:.0%}")
report = entry.eval_report()
if rep.machine_line(report):
    det = report["detect"]
    if "quiz" in det:
        machine.metric("A classifier finds the fake", f"{det['quiz']:.0%}",
                       help="The same quiz: rows of five held-out real images and one sample, the fake the one "
                            "it scores least real; chance 17% (Report card)")
    else:
        machine.metric("A classifier tells its samples from real", f"{det['detectability']:.0%}",
                       help="One image at a time, against held-out real images; 50% is chance (Report card)")
    machine.caption(rep.machine_line(report))
ui.link_notice()
