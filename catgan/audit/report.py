"""eval.json -> the figures people read: one flat row per model, and its ladders.

The report card page, the model cards and the README table all read through here, so
they always show the same numbers with the same names.
"""
from __future__ import annotations

from catgan.audit import detect
from catgan.audit.degrade import ladder_position
from catgan.audit.quiz import detection, people_beside_machine

SPACE_COLUMNS = ("fd", "kid", "precision", "recall", "density", "coverage")
LADDER_KEYS = ("real", "noise_3", "blur_1", "blur_2")


def primary_space(report: dict) -> str | None:
    """The space a model is judged in: the robust sticker space where it applies."""
    spaces = report.get("spaces", {})
    return "sticker" if "sticker" in spaces else next(iter(spaces), None)


def row(name: str, report: dict) -> dict:
    """Flat figures: '<space> <metric>' for every space, label measures, memorisation, the quiz."""
    out: dict = {}
    main = primary_space(report)
    for key, s in report.get("spaces", {}).items():
        for c in SPACE_COLUMNS:
            out[f"{key} {c}"] = s.get(c)
        if key == main:
            out["on the ladder"] = ladder_position(s["fd"], s["ladder"], ratio=True) if "ladder" in s else None
    det = report.get("detect", {})
    out["detectability"] = det.get("detectability")
    out["detectability ±"] = det.get("stderr")
    out["detectability on its ladder"] = det.get("on_ladder")
    out["detector's quiz"] = det.get("quiz")
    out["detail hf"] = report.get("detail", {}).get("hf")
    labels = report.get("labels", {})
    out["pose×item coverage"] = labels.get("mode_coverage")
    out["KL(real‖gen)"] = labels.get("kl_real_to_generated")
    if "agreement" in labels:          # a conditional model: the share of its samples drawn as asked
        per = [v["agreement"] for k, v in labels["agreement"].items() if k != "all"]
        out["label agreement"] = round(sum(per) / len(per), 4)
    out["memorised"] = report.get("memorisation", {}).get("memorised")
    quiz = detection(name)
    out["people find the fake"] = quiz["rate"]
    out["quiz rows"] = quiz["rounds"]
    return out


def ladders(report: dict) -> dict[str, dict]:
    """Per space: the ladder's FDs and rho, for the floor rows; then the spectrum's hf on the same rungs."""
    out = {key: {"space": s.get("space"), **{k: s.get("ladder", {}).get(k) for k in LADDER_KEYS},
                 **{f"rho {k}": v for k, v in s.get("rho", {}).items()}}
           for key, s in report.get("spaces", {}).items()}
    if "detail" in report:
        out["detail hf"] = {"space": "power spectrum: mean log10 power ratio, top 2/3 of frequencies",
                            **{k: report["detail"]["ladder"].get(k) for k in LADDER_KEYS}}
    return out


def detect_ladder(report: dict) -> dict | None:
    """The detectability ladder's rungs with their standard errors, named for people; None if not measured."""
    det = report.get("detect", {})
    if "ladder" not in det:
        return None
    return {detect.LADDER_NAMES.get(k, k): {"detectability": v, "±": det.get("ladder_stderr", {}).get(k)}
            for k, v in det["ladder"].items()}


def machine_line(report: dict) -> str | None:
    """One sentence: how often the detector finds this model's fakes, against its ladder."""
    det = report.get("detect", {})
    if "detectability" not in det:
        return None
    quiz = (f" Shown a quiz row of five real images and one sample, it finds the fake {det['quiz']:.0%} of the "
            "time (chance 17%)." if "quiz" in det else "")
    return (f"A fresh classifier tells this model's samples from real images {det['detectability']:.1%} of the "
            f"time (± {det['stderr']:.1%}; 50% is chance): {det['on_ladder']}.{quiz}{stale_protocol(det)}")


def verdict(name: str, report: dict) -> str | None:
    """One sentence to lead a model's report: how often a fresh classifier finds its samples, where that
    sits on the ladder, and how often people found them; None where detectability was not measured."""
    det = report.get("detect", {})
    if "detectability" not in det:
        return None
    people = detection(name)
    said = (people_beside_machine(det.get("quiz"), people["found"], people["rounds"])
            or (f"people found the fake in {people['found']} of {people['rounds']} quiz rows (chance 1 in 6)"
                if people["rounds"] else "no one has taken its quiz yet (Real or fake?)"))
    return (f"A fresh classifier finds **{det['detectability']:.0%}** of its samples (± {det['stderr']:.1%}; 50% is "
            f"chance), {det['on_ladder'].replace('more detectable than', 'more often than real stickers with')}; "
            f"{said}.{stale_protocol(det)}")


# The report card's tables, a few columns each so that every one fits the page; what no group names goes last.
COLUMN_GROUPS = {
    "Detectability": ["detectability", "detectability ±", "detectability on its ladder", "detector's quiz",
                      "people find the fake", "quiz rows"],
    "Robust FD": ["sticker fd", "on the ladder", "sticker kid", "detail hf", "memorised"],
    "Coverage": ["pose×item coverage", "KL(real‖gen)", "sticker precision", "sticker recall", "sticker density",
                 "sticker coverage"],
}


def column_groups(columns: list[str], most: int = 6) -> dict[str, list[str]]:
    """The table's columns in COLUMN_GROUPS' order; the rest by their first word (a feature space's columns
    together), at most `most` a group."""
    groups = {title: [c for c in cols if c in columns] for title, cols in COLUMN_GROUPS.items()}
    rest = [c for c in columns if not any(c in g for g in groups.values())]
    for first in dict.fromkeys(c.split()[0] for c in rest):
        cols = [c for c in rest if c.split()[0] == first]
        for i in range(0, len(cols), most):
            groups[f"{first} ({i // most + 1})" if len(cols) > most else first] = cols[i:i + most]
    return {title: cols for title, cols in groups.items() if cols}


def stale_protocol(measured: dict) -> str:
    """A warning where a detectability figure was measured under another protocol than today's (its
    figures and ladder then do not compare with today's), else nothing."""
    then, now = measured.get("protocol"), detect.Protocol().key()
    if then is None or then == now or then == detect.Protocol().one_fit().key():
        return ""
    return (f" Measured under an older detector protocol ({then}; today's is {now}), so not comparable with "
            "today's figures: rerun `catgan detect` (and `catgan truncation`).")
