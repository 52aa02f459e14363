"""Every model's quality numbers side by side, read against each feature space's degradation ladder."""
import pandas as pd
import streamlit as st

from catgan import catalogue, jobs, ui
from catgan.audit import report as rep
from catgan.audit.evaluate import DETECTABLE_FILE

ui.page_config("Report card")
st.title("Report card")
st.write("Numbers are only comparable within one feature space, and every column names its space. "
         "**sticker** is a small network trained to see pose, item, coat and eyes while ignoring pixel noise, "
         "blur and JPEG (used on the embedded stickers); **efficientnet** is EfficientNet-Lite0 with ImageNet "
         "weights (any data; not comparable with Inception FIDs published elsewhere). Read a model's FD "
         "against its space's ladder: real images, then real images made slightly worse. Both spaces are blind to "
         "blur by design, so **detail hf** reads fine detail from the power spectrum instead: 0 is the real "
         "images' high-frequency power, below 0 blurrier (blur 1 px is about -1.6), above 0 noisier. "
         "**detectability** is what people see: a fresh classifier learns the real images against the model's "
         "samples at full resolution, both sides randomly blurred up to 1 px and noised up to 4/255 so it is "
         "blind to what a person cannot see; its accuracy on held-out images (0.5: cannot tell) reads against "
         "its own ladder.")

rows, floors, reports, missing = {}, {}, {}, []
for entry in ui.models():
    report = entry.eval_report()
    if not report.get("spaces"):
        missing.append(entry)
        continue
    rows[entry.name], reports[entry.name] = rep.row(entry.name, report), (entry, report)
    floors.setdefault(report.get("dataset"), rep.ladders(report))

if rows:
    table = pd.DataFrame.from_dict(rows, orient="index")
    lead = ["detectability", "detectability ±", "detector's quiz", "detectability on its ladder", "on the ladder",
            "sticker fd", "pose×item coverage", "KL(real‖gen)", "sticker coverage",
            "sticker density", "detail hf", "memorised", "people find the fake", "quiz rows"]
    table = table[[c for c in lead if c in table] + [c for c in table if c not in lead]]
    st.dataframe(table.style.format(precision=3, na_rep="–"), width="stretch")
    st.subheader("Ladders: the FD of real images, and of real images made slightly worse")
    for dataset, per_space in floors.items():
        st.caption(f"dataset: {dataset}")
        st.dataframe(pd.DataFrame.from_dict(per_space, orient="index").style.format(precision=3, na_rep="–"),
                     width="stretch")
    st.caption("rho: how far a nuisance moves features, over the typical distance between neighbouring real "
               "images (k = 5). Above about 0.5 a space cannot tell a model from invisible noise.")
    fd_col = "sticker fd" if "sticker fd" in table else "efficientnet fd"
    st.subheader(f"{fd_col} (lower is better)")
    st.bar_chart(table[fd_col])
    st.caption("The quiz column is filled by people on the Real or fake? page; chance is 1 in 6.")
    st.subheader("Fake detectability: where the fakes give themselves away")
    ladder = next((rep.detect_ladder(r) for _, r in reports.values() if rep.detect_ladder(r)), None)
    if ladder:
        st.caption("The ladder: real images against other real images, and against real images made slightly "
                   "worse, judged the same way (± one standard error over three fits).")
        st.dataframe(pd.DataFrame.from_dict(ladder, orient="index").style.format(precision=3, na_rep="–"))
    for entry, report in reports.values():
        det = report.get("detect", {})
        if "most_detectable" not in det:
            st.caption(f"{entry.name}: {det.get('skipped', 'detectability not measured')}")
            continue
        st.markdown(f"**{entry.name}**: {rep.machine_line(report)}")
        tells = ", ".join(f"{part} {n}" for part, n in det["tells"].items() if n)
        st.caption(f"Its most detectable samples (top), and where the classifier looks (red, below). The part "
                   f"their heat falls on most, against its area: {tells}.")
        heat = entry.folder / DETECTABLE_FILE
        if heat.exists():
            st.image(str(heat), output_format="PNG")
        st.markdown(" · ".join(f"{ui.explorer_link(entry.name, t['seed'])} {t['tell']}"
                               for t in det["most_detectable"]))
        if report.get("truncation"):
            trunc = report["truncation"]
            st.caption(f"Against the latent scale (one fit a scale): Home and the explorer start {entry.name} at "
                       f"**{trunc['recommended']:g}**, the least detectable scale that keeps pose×item coverage.")
            st.dataframe(pd.DataFrame(trunc["rows"]).set_index("scale").style.format(precision=3))
else:
    st.info("No model has been evaluated yet.")

st.header("Evaluate now")
runs = catalogue.runs_dir()


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
    n = st.select_slider("Samples", [500, 1000, 3000, 5000], 3000,
                         help="5,000 is the standard; fewer is quicker and noisier; detectability needs 3,000.")
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
