"""Every model's quality numbers side by side, with the real-vs-real floor."""
import pandas as pd
import streamlit as st

from catgan import jobs, ui, zoo
from catgan.audit.evaluate import EVAL_FILE
from catgan.audit.features import SPACE

st.set_page_config(page_title="Report card · catgan", layout="wide")
st.title("Report card")
st.write(f"All numbers are in one feature space: **{SPACE}**. They are not comparable with Inception-based "
         "FIDs published elsewhere. The first row is the floor: two disjoint halves of the real data.")

COLS = ["fid", "kid", "precision", "recall", "density", "coverage"]
rows, missing = [], []
floor = zoo.read_json(zoo.checkpoints_dir() / "real_vs_real.json")
if floor:
    rows.append({"model": "real vs real (floor)", **{c: floor.get(c) for c in COLS}})
for entry in ui.models():
    report = zoo.read_json(entry.folder / EVAL_FILE)
    if not report:
        missing.append(entry)
        continue
    rows.append({"model": entry.name, **{c: report.get(c) for c in COLS},
                 "mode coverage": report.get("modes", {}).get("mode_coverage"),
                 "memorised": report.get("memorisation", {}).get("memorised"),
                 "n": report.get("n_fake")})
if rows:
    table = pd.DataFrame(rows).set_index("model")
    st.dataframe(table.style.format(precision=3, na_rep="–"), use_container_width=True)
    c1, c2 = st.columns(2)
    c1.subheader("FID (lower is better)")
    c1.bar_chart(table["fid"])
    c2.subheader("Precision and recall (higher is better)")
    c2.bar_chart(table[["precision", "recall"]], stack=False)
else:
    st.info("No model has been evaluated yet.")

st.header("Evaluate now")
runs = zoo.runs_dir()


@st.fragment(run_every=2)
def progress():
    job = jobs.active_job(runs)
    if job and job.kind == "eval":
        st.info(f"Evaluating {job.run.name.removeprefix('eval-')}…")
        st.code(jobs.log_tail(job.log, 3) or "starting…")
    elif job:
        st.caption(f"A {job.kind} job is running ({job.run.name}); evaluation waits for it.")


progress()
if missing:
    pick = st.selectbox("Model without results", [e.name for e in missing])
    n = st.select_slider("Samples", [500, 1000, 2000, 5000], 1000,
                         help="5,000 is the standard; fewer is quicker and noisier.")
    if st.button("Evaluate in the background"):
        entry = next(e for e in missing if e.name == pick)
        try:
            jobs.launch(runs, runs / f"eval-{entry.name.replace('/', '_')}", ["eval", str(entry.path), "--n", str(n)],
                        kind="eval")
            st.success("Started. Results appear here when it finishes.")
        except jobs.JobBusy as e:
            st.error(str(e))
else:
    st.caption("Every model has results. Re-run `catgan eval CHECKPOINT` to refresh them.")
