"""Every model's samples, what gives them away, then its quality numbers, read against their ladders."""
import pandas as pd
import streamlit as st

from catgan import catalogue, jobs, ui
from catgan.audit import report as rep

ui.page_config("Report card")
st.title("Report card")
st.write("Each model's samples beside what gives them away, with one sentence of verdict; the numbers follow.")

reports, missing = {}, []
for entry in ui.models():
    report = entry.eval_report()
    if report.get("spaces"):
        reports[entry.name] = (entry, report)
    else:
        missing.append(entry)

for entry, report in reports.values():
    st.subheader(entry.name)
    g = ui.load(entry)
    if g is not None:
        scale = ui.recommended_scale(entry)
        ui.show_grid(ui.generate(g, g.latents(0, 8, psi=scale)), cols=8, scale=2,
                     caption=f"seeds 0-7 at {'ψ' if g.space == 'w' else 'scale'} {scale:g}")
    det = report.get("detect", {})
    if "most_detectable" not in det:
        st.caption(det.get("skipped", "Detectability not measured yet."))
        continue
    st.markdown(rep.verdict(entry.name, report))
    ui.most_detectable(entry, det)

if not reports:
    st.info("No model has been evaluated yet.")
else:
    st.header("The numbers")
    with st.expander("How to read them"):
        st.write("Numbers are only comparable within one feature space, and every column names its space. "
                 "**sticker** is a small network trained to see pose, item, coat and eyes while ignoring pixel "
                 "noise, blur and JPEG (used on the embedded stickers); **efficientnet** is EfficientNet-Lite0 with "
                 "ImageNet weights (any data; not comparable with Inception FIDs published elsewhere). Read a "
                 "model's FD against its space's ladder: real images, then real images made slightly worse. Both "
                 "spaces are blind to blur by design, so **detail hf** reads fine detail from the power spectrum "
                 "instead: 0 is the real images' high-frequency power, below 0 blurrier (blur 1 px is about -1.6), "
                 "above 0 noisier. **detectability** is what people see: a fresh classifier learns the real images "
                 "against the model's samples at full resolution, both sides randomly blurred up to 1 px and noised "
                 "up to 8/255 so it is blind to what a person cannot see; its accuracy on held-out images (0.5: "
                 "cannot tell) reads against its own ladder. The quiz columns are filled by people on the Real or "
                 "fake? page; chance is 1 in 6.")
    table = pd.DataFrame.from_dict({name: rep.row(name, r) for name, (_, r) in reports.items()}, orient="index")
    groups = rep.column_groups(list(table.columns))
    for tab, cols in zip(st.tabs(list(groups)), groups.values()):
        tab.dataframe(table[cols].style.format(precision=3, na_rep="–"), width="stretch")

    st.subheader("Ladders")
    ladder = next((rep.detect_ladder(r) for _, r in reports.values() if rep.detect_ladder(r)), None)
    if ladder:
        st.caption("Detectability of real images against other real images, and against real images made "
                   "slightly worse, judged the same way (± one standard error over three fits).")
        st.dataframe(pd.DataFrame.from_dict(ladder, orient="index").style.format(precision=3, na_rep="–"))
    floors = {}
    for _, report in reports.values():
        floors.setdefault(report.get("dataset"), rep.ladders(report))
    for dataset, per_space in floors.items():
        ladder = pd.DataFrame.from_dict(per_space, orient="index")
        st.caption(f"The FD of real images, and of real images made slightly worse; dataset: {dataset}. "
                   + " ".join(f"**{k}**: {v}." for k, v in ladder["space"].dropna().items()))
        rho = [c for c in ladder.columns if c.startswith("rho ")]
        fmt = dict(precision=3, na_rep="–")
        st.dataframe(ladder.drop(columns=["space", *rho]).style.format(**fmt), width="stretch")
        st.caption("rho: how far a nuisance moves features, over the typical distance between neighbouring real "
                   "images (k = 5); above about 0.5 a space cannot tell a model from invisible noise.")
        st.dataframe(ladder[rho].dropna(how="all").style.format(**fmt), width="stretch")
    for entry, report in reports.values():
        if report.get("truncation"):
            trunc = report["truncation"]
            st.caption(f"{entry.name} against the latent scale (one fit a scale): Home and the explorer start it at "
                       f"**{trunc['recommended']:g}**, the least detectable scale that keeps pose×item coverage.")
            st.dataframe(pd.DataFrame(trunc["rows"]).set_index("scale").style.format(precision=3))

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
