"""Fake detectability: a classifier two-sample test (Lopez-Paz & Oquab 2017; REFERENCE section 17).

A fresh small CNN, no pretrained features, at the images' full resolution, learns real images
against a model's samples; its accuracy on held-out images of both kinds is the model's
detectability (0.5: it cannot tell them apart; 1.0: it finds every fake).

Left alone such a classifier is superhuman: it finds a 0.5 px blur of real stickers almost
every time, so every model scores 1.0. The protocol makes it blind to what a person cannot see
at the quiz's scale: both sides get the same random nuisance, per image (half of them a JPEG round
trip at quality JPEG_MIN-99, a Gaussian blur of 0 to BLUR_MAX px, pixel noise of 0 to NOISE_MAX /
255), so a slight softness, faint grain or compression hides in the spread the reals have too,
while smears, speckle and missing faces do not; and the training budget is fixed (STEPS steps of
BATCH). Its ladder on the embedded stickers (AMD EPYC, AVX-512): real vs real 0.50, blur 0.5 px
0.73, JPEG 90 0.78, noise 3/255 0.90 (one of its three fits took off late: 0.72 against 0.98 and
0.99), blur 1 px 0.96.

The budget was 400 steps until 2026-12-05, and that was too few: a fit often had not yet learnt
when it stopped, so a figure measured how soon the classifier took off more than how far the
samples are from real ones. The weights of three kept points of a DCGAN averaged scored 0.52 and
0.73 with two seeds at 400 steps (the first fit's training loss never left ln 2) and 0.91 at 1600;
the shipped DCGAN scored 0.77 at 400 and 0.97 at 1600, while a person finds its fake in 10 of 10
quiz rows. The blur rungs hardly moved (0.72 and 0.95 at 400 steps); noise 3/255 did (0.64). At
1600 a fit's accuracy on its own training images matches the held-out one (it is not overfitting),
and a fit costs about 4 minutes on one core. A late take-off still happens (the noise rung above),
which the three fits' standard error shows.

Batch norm fits where plain or group-normalised nets often stay at chance, but its running
statistics (a moving average over mixed batches) misplace the threshold, so they are recomputed
over the training images after training (REFERENCE section 17).

The detector trains in bf16 autocast where the CPU runs bf16 natively (AVX-512 BF16, AMX), as training
chooses its precision: 12 steps a second against fp32's 6.6 on one thread of the Xeon, 1.8x. Figures
agree with fp32's within their standard errors (2026-12-05; fp32 on an AMD EPYC AVX-512, bf16 on an
Intel Xeon with AMX): the ladder's real vs real
0.496 / 0.503, blur 0.5 px 0.731 / 0.728, blur 1 px 0.957 / 0.958, noise 3/255 0.90 / 0.87 (a late
take-off in both), JPEG 90 0.777 / 0.778; dcgan-stickers64 0.968 / 0.967; pgwgan-stickers64 0.984 (EPYC)
and 0.979 (the Xeon) / 0.975, each ± 0.003-0.005. `--precision fp32` forces fp32.

Everything random derives from the seed, so the same images and seeds give the same figure (on one
machine and precision).
"""
from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field, replace

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from catgan.audit import degrade
from catgan.device import choose_precision
from catgan.pixels import from_uint8

BLUR_MAX = 1.0          # px, the most blur either side may get
NOISE_MAX = 8.0         # in 1/255 of the range
JPEG_MIN = 80           # half the images on both sides are JPEG-compressed at a quality from here to 99
STEPS = 1600
BATCH = 64
LR = 2e-3
N_TRAIN = 2000          # images a side the classifier learns from
N_TEST = 1000           # images a side it is judged on
SEEDS = (0, 1, 2)       # one fit per seed (its own split, init and nuisances); the figure is their mean
FIT_SD = 0.06           # how far one fit strays: dcgan-stickers64's three spread 0.95-0.98, the noise rung's 0.72-0.99
QUIZ_REALS = 5          # the blind quiz's rows: five real images and one sample
# Fits that learn before they are read (Protocol.converging()): `steps` is then a ceiling. A fit holds out
# VAL_SHARE of its training images, warms its rate up, and is judged on them every EVAL_EVERY steps (balanced
# batches, batch norm on their own statistics), on the mean of its last SMOOTH validation losses. Until that
# takes off (TAKEOFF below ln 2) it trains at the full rate, up to the ceiling; then each PATIENCE judgements
# without a loss IMPROVE lower halve the rate, and after HALVINGS halvings it stops (or at once when two
# judgements in a row score a loss under SEPARATED). It keeps its best weights.
# Measured on stylegan2-stickers64's samples (AMD EPYC, AVX2, fp32): with 1,600 images a side to learn from,
# the validation loss rose from step 500 while its accuracy crept up to 0.58-0.68 by 4,800 steps (the fit
# memorised); with 3,200 (CONVERGE_TRAIN, all the embedded stickers) it stayed near ln 2 until step 1,800 and
# then fell, accuracy 0.55 -> 0.68 by 2,600, where a rule on single judgements (1% better within two) had
# already stopped it. Random shifts of the images learnt slower still (0.59 at 2,900).
VAL_SHARE = 0.2
WARMUP_STEPS = 100
EVAL_EVERY = 100
SMOOTH = 3
TAKEOFF = 0.02
IMPROVE = 0.002
PATIENCE = 4
HALVINGS = 2
SEPARATED = 0.05        # a validation loss this low (nearly every image judged right and sure) ends a fit
CHANCE_SIGMAS = 3       # validation accuracy this many binomial errors above 0.5 counts as learnt (0.053 for 800)
CEILING = 6000          # a converging fit's most steps
CONVERGE_TRAIN = 4000   # images a side a converging fit learns from (its validation share among them)


@dataclass(frozen=True)
class Protocol:
    """What a figure depends on besides the images; a figure is comparable only under the same one."""
    steps: int = STEPS
    n_train: int = N_TRAIN
    n_test: int = N_TEST
    seeds: tuple = SEEDS
    blur_max: float = BLUR_MAX
    noise_max: float = NOISE_MAX
    jpeg_min: int = JPEG_MIN
    precision: str = "auto"   # the detector's arithmetic (catgan.device.choose_precision): bf16 autocast
                              # where native. It gives fp32's figures within their errors, so it is not in the key
    converge: bool = False    # train until the validation loss stops improving, `steps` a ceiling (converging())

    def key(self) -> str:
        budget = f"c{self.steps}" if self.converge else f"s{self.steps}"
        return (f"{budget}-n{self.n_train}+{self.n_test}-b{self.blur_max:g}-v{self.noise_max:g}"
                f"-j{self.jpeg_min}-k{len(self.seeds)}")

    def bf16(self) -> bool:
        return choose_precision(self.precision, "cpu").bf16

    @classmethod
    def converging(cls, **kw) -> "Protocol":
        """Fits that learn before they are read: up to CEILING steps on CONVERGE_TRAIN images a side."""
        return cls(**{"converge": True, "steps": CEILING, "n_train": CONVERGE_TRAIN, **kw})

    def one_fit(self) -> "Protocol":
        """The same protocol with its first seed alone: a third of the cost, for many figures in a row
        (the trainer's points, the truncation sweep's scales)."""
        return replace(self, seeds=self.seeds[:1])


class Detector(nn.Module):
    """Four stride-2 stages, 16-32-64-64 channels, global average pool, one logit (> 0: real)."""

    def __init__(self, width: int = 16):
        super().__init__()
        chans = [3, width, 2 * width, 4 * width, 4 * width]
        layers = []
        for cin, cout in zip(chans, chans[1:]):
            layers += [nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.LeakyReLU(0.2),
                       nn.Conv2d(cout, cout, 3, stride=2, padding=1), nn.BatchNorm2d(cout), nn.LeakyReLU(0.2)]
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(chans[-1], 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x).mean((2, 3))).squeeze(1)


def nuisance(x: torch.Tensor, gen: torch.Generator, p: Protocol) -> torch.Tensor:
    """Each image blurred by its own sigma in [0, blur_max] px and noised by its own sigma in
    [0, noise_max] / 255 (x is in [-1, 1], where 1/255 of the range is 2/255)."""
    n = len(x)
    if p.jpeg_min < 100:
        x = degrade.jpeg_some(x, gen, p.jpeg_min)
    if p.blur_max > 0:
        x = degrade.blur_each(x, torch.rand(n, generator=gen) * p.blur_max, math.ceil(3 * p.blur_max))
    if p.noise_max > 0:
        x = x + torch.rand(n, 1, 1, 1, generator=gen) * (p.noise_max * 2 / 255) * torch.randn(x.shape, generator=gen)
    return x.clamp(-1, 1)          # as an image would be: noise on white cannot go whiter


class FitStopped(Exception):
    """A fit given up because its caller asked to stop (a training run's Stop): no figure."""


@dataclass
class FitLog:
    """How one fit went: validation loss and accuracy at each judgement, where it stopped and why."""
    steps: list = field(default_factory=list)
    val_loss: list = field(default_factory=list)
    val_acc: list = field(default_factory=list)
    stopped_at: int = 0
    reason: str = "ceiling"
    val_images: int = 0

    @property
    def learnt(self) -> bool:
        """Whether validation accuracy ever left chance (always True for a fixed-budget fit: it cannot tell)."""
        if not self.val_acc:
            return True
        return max(self.val_acc) >= 0.5 + CHANCE_SIGMAS * math.sqrt(0.25 / max(self.val_images, 1))

    def summary(self) -> dict:
        return {"steps": self.stopped_at, "reason": self.reason, "learnt": self.learnt,
                "curve": [[s, round(l, 4), round(a, 4)] for s, l, a in zip(self.steps, self.val_loss, self.val_acc)]}


def fit(real: np.ndarray, fake: np.ndarray, seed: int, p: Protocol = Protocol(), bar=None,
        should_stop=None, log: FitLog | None = None) -> Detector:
    """A fresh detector trained on uint8 reals (label 1) against fakes (label 0); `bar` (tqdm) counts its
    steps. Under a converging protocol it holds out a validation share and stops when it has learnt what it
    can (`log` records how). `should_stop()`, checked between steps, gives up with FitStopped."""
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    net = Detector().to(memory_format=torch.channels_last)      # oneDNN's layout: about 1.2x a step on a CPU
    bf16 = p.bf16()
    opt = torch.optim.Adam(net.parameters(), lr=LR, betas=(0.5, 0.99))
    r, f = from_uint8(real), from_uint8(fake)
    judge = _Validation(r, f, gen, p) if p.converge else None
    if judge is not None:
        r, f = judge.r_fit, judge.f_fit
    log = log if log is not None else FitLog()
    half = BATCH // 2
    y = torch.cat([torch.ones(half), torch.zeros(half)])
    net.train()
    for step in range(p.steps):
        if should_stop is not None and should_stop():
            raise FitStopped(f"stopped at step {step} of a detector fit")
        if judge is not None:
            judge.set_rate(opt, step)
        x = torch.cat([r[torch.randint(len(r), (half,), generator=gen)],
                       f[torch.randint(len(f), (half,), generator=gen)]])
        x = torch.where(torch.rand(len(x), 1, 1, 1, generator=gen) < 0.5, x, x.flip(3))  # mirroring tells nothing
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            out = net(_cl(nuisance(x, gen, p)))
        loss = F.binary_cross_entropy_with_logits(out.float(), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if bar is not None:
            bar.update(1)
        log.stopped_at = step + 1
        if judge is not None and (step + 1) % EVAL_EVERY == 0 and judge.judge(net, step + 1, log, bf16):
            if bar is not None:
                bar.update(p.steps - step - 1)                  # the bar counts the ceiling; this fit is done
            break
    if judge is not None:
        net.load_state_dict(judge.best_state)
    n = min(len(r), len(f))
    batches = (_cl(nuisance(torch.cat([r[i:i + 128], f[i:i + 128]]), gen, p)) for i in range(0, n, 128))
    torch.optim.swa_utils.update_bn(batches, net)          # exact statistics over the training images
    return net.eval()


class _Validation:
    """A converging fit's held-out share of its training images, its rate schedule and its stopping rule."""

    def __init__(self, r: torch.Tensor, f: torch.Tensor, gen: torch.Generator, p: Protocol):
        nr, nf = round(len(r) * VAL_SHARE), round(len(f) * VAL_SHARE)
        pr, pf = torch.randperm(len(r), generator=gen), torch.randperm(len(f), generator=gen)
        self.r_fit, self.f_fit = r[pr[nr:]], f[pf[nf:]]
        n = min(nr, nf)
        vr, vf = r[pr[:n]], f[pf[:n]]
        # fixed nuisances, so every judgement sees the same images; balanced chunks of 64 + 64
        self.x = _cl(nuisance(torch.cat([vr, vf]), gen, p))
        self.y = torch.cat([torch.ones(n), torch.zeros(n)])
        self.n = n
        self.best, self.best_state, self.since, self.halvings = math.inf, None, 0, 0
        self.took_off, self.scale, self.perfect, self.recent = False, 1.0, 0, []

    def set_rate(self, opt, step: int) -> None:
        warm = min(1.0, (step + 1) / WARMUP_STEPS)
        for g in opt.param_groups:
            g["lr"] = LR * warm * self.scale

    @torch.no_grad()
    def judge(self, net: Detector, step: int, log: FitLog, bf16: bool) -> bool:
        """Record the validation loss and accuracy; True when the fit should stop."""
        bns = [m for m in net.modules() if isinstance(m, nn.BatchNorm2d)]
        momenta = [m.momentum for m in bns]
        for m in bns:                          # train-mode batch norm on balanced chunks, running stats untouched
            m.momentum = 0.0
        outs = []
        for i in range(0, self.n, 64):
            j = min(i + 64, self.n)
            chunk = torch.cat([self.x[i:j], self.x[self.n + i:self.n + j]])
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                o = net(chunk).float()
            k = len(chunk) // 2
            outs.append((o[:k], o[k:]))
        for m, mo in zip(bns, momenta):
            m.momentum = mo
        real = torch.cat([a for a, _ in outs])
        fake = torch.cat([b for _, b in outs])
        logits_ = torch.cat([real, fake])
        loss = float(F.binary_cross_entropy_with_logits(logits_, self.y))
        acc = float(((real > 0).sum() + (fake <= 0).sum()) / len(logits_))
        log.steps.append(step)
        log.val_loss.append(loss)
        log.val_acc.append(acc)
        log.val_images = len(logits_)
        return self.should_stop(loss, net, log)

    def should_stop(self, loss: float, net: nn.Module, log: FitLog) -> bool:
        """The rule on one judgement's validation loss: on the mean of the last SMOOTH, keep the best
        weights, halve the rate on a plateau after take-off, stop after HALVINGS halvings (or once the loss
        is SEPARATED twice in a row)."""
        self.recent = (self.recent + [loss])[-SMOOTH:]
        smoothed = sum(self.recent) / len(self.recent)
        self.perfect = self.perfect + 1 if loss < SEPARATED else 0
        if self.perfect >= 2:                   # it tells nearly every held-out image apart twice: little left to learn
            log.reason = "converged"
            self.best_state = {k: v.detach().clone() for k, v in net.state_dict().items()}
            return True
        if smoothed < self.best - IMPROVE or not math.isfinite(self.best):
            self.best, self.since = smoothed, 0
            self.best_state = {k: v.detach().clone() for k, v in net.state_dict().items()}
        else:
            self.since += 1
        if not self.took_off:
            self.took_off = self.best < math.log(2) - TAKEOFF
            if not self.took_off:              # a late take-off is still a take-off: wait for it up to the ceiling
                return False
        if self.since >= PATIENCE:
            if self.halvings >= HALVINGS:
                log.reason = "converged"
                return True
            self.halvings, self.scale, self.since = self.halvings + 1, self.scale / 2, 0
        return False


@torch.no_grad()
def logits(net: Detector, images: np.ndarray, seed: int = 0, p: Protocol = Protocol()) -> np.ndarray:
    """The detector's logit per image (> 0: judged real), under the protocol's nuisance."""
    gen = torch.Generator().manual_seed(seed)
    x = from_uint8(images)
    return torch.cat([net(_cl(nuisance(x[i:i + 256], gen, p))) for i in range(0, len(x), 256)]).numpy()


def _cl(x: torch.Tensor) -> torch.Tensor:
    return x.contiguous(memory_format=torch.channels_last)


def auc(real_scores: np.ndarray, fake_scores: np.ndarray) -> float:
    """P(a real scores above a fake), ties counting half."""
    from sklearn.metrics import roc_auc_score
    y = np.r_[np.ones(len(real_scores)), np.zeros(len(fake_scores))]
    return float(roc_auc_score(y, np.r_[real_scores, fake_scores]))


def quiz_rate(real_scores: np.ndarray, fake_scores: np.ndarray, k: int = QUIZ_REALS) -> float:
    """The detector taking the blind quiz: the chance that a held-out fake scores as the least real of a
    row with k held-out reals (ties go against it), over rows drawn from the judged images. Chance is
    1 / (k + 1); this is the figure to set beside the share of fakes people find."""
    reals = np.sort(np.asarray(real_scores))
    above = 1 - np.searchsorted(reals, fake_scores, side="right") / len(reals)   # share of reals above each fake
    return float(np.mean(above ** k))


@dataclass
class Fold:
    """One seed's fit: the detector and how it judged its held-out images."""
    net: Detector
    accuracy: float
    auc: float
    real_scores: np.ndarray
    fake_scores: np.ndarray
    fake_index: np.ndarray      # which of the fakes passed in were held out, in the order of fake_scores
    log: FitLog = field(default_factory=FitLog)     # how the fit went (its validation curve, where it stopped)


def _split(n: int, n_train: int, n_test: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    order = np.random.default_rng(seed).permutation(n)
    return order[:n_train], order[n_train:n_train + n_test]


def one_fold(real: np.ndarray, fake: np.ndarray, seed: int, p: Protocol, bar=None, should_stop=None) -> Fold:
    rtr, rte = _split(len(real), p.n_train, p.n_test, seed)
    ftr, fte = _split(len(fake), p.n_train, p.n_test, seed + 10_000)
    log = FitLog()
    net = fit(real[rtr], fake[ftr], seed, p, bar, should_stop, log)
    rs, fs = logits(net, real[rte], seed, p), logits(net, fake[fte], seed + 1, p)
    acc = (float((rs > 0).sum()) + float((fs <= 0).sum())) / (len(rs) + len(fs))
    return Fold(net, acc, auc(rs, fs), rs, fs, fte, log)


def detectability(real: np.ndarray, fake: np.ndarray, p: Protocol = Protocol(), keep_folds: bool = False,
                  progress: str | None = None, should_stop=None) -> dict:
    """The two-sample test on uint8 images: the mean held-out accuracy and AUC over the protocol's
    seeds, with a standard error: the spread between seeds (FIT_SD for a single fit, whose spread it
    cannot see), at least the binomial error of the pooled test images. `progress`: a label for a
    progress bar of the fits' steps on stderr (stdout stays clean for --json). Under a converging
    protocol a fit whose validation accuracy never left chance while another's did is named in
    `failed_fits` and left out of the figure; every fit's validation curve is in `fits`."""
    if real.shape[1:] != fake.shape[1:]:
        raise ValueError(f"real images are {real.shape[1:]} but generated ones {fake.shape[1:]}: compare a "
                         "model with the dataset at its own resolution")
    need = p.n_train + p.n_test
    if min(len(real), len(fake)) < need:
        raise ValueError(f"the detectability protocol needs {need} images a side ({p.n_train} to learn, "
                         f"{p.n_test} to judge); got {len(real)} real and {len(fake)} generated")
    with tqdm(total=len(p.seeds) * p.steps, desc=progress, unit="step", disable=progress is None,
              mininterval=2.0, file=sys.stderr) as bar:
        folds = [one_fold(real, fake, s, p, bar, should_stop) for s in p.seeds]
    failed = [s for s, f in zip(p.seeds, folds) if not f.log.learnt]
    if len(failed) == len(folds):              # none learnt (real against real): chance is the figure
        failed = []
    judged = [f for s, f in zip(p.seeds, folds) if s not in failed]
    accs = np.array([f.accuracy for f in judged])
    acc = float(accs.mean())
    between = float(accs.std(ddof=1) / math.sqrt(len(accs))) if len(accs) > 1 else FIT_SD
    binomial = math.sqrt(max(acc * (1 - acc), 1e-4) / (2 * p.n_test * len(accs)))
    out = {"detectability": round(acc, 4), "auc": round(float(np.mean([f.auc for f in judged])), 4),
           "quiz": round(float(np.mean([quiz_rate(f.real_scores, f.fake_scores) for f in judged])), 4),
           "stderr": round(max(between, binomial), 4), "folds": [round(f.accuracy, 4) for f in folds],
           "protocol": p.key(), "precision": "bf16" if p.bf16() else "fp32"}
    if p.converge:
        out.update(fits=[f.log.summary() for f in folds], failed_fits=failed)
    if keep_folds:
        out["_folds"] = folds
    return out


def caught(folds: list[Fold], n: int) -> np.ndarray:
    """Per generated image (of the n passed in): the share of the fits that held it out which called it
    fake; -1 where no fit judged it."""
    hits, seen = np.zeros(n), np.zeros(n)
    for f in folds:
        hits[f.fake_index] += f.fake_scores <= 0
        seen[f.fake_index] += 1
    return np.where(seen > 0, hits / np.maximum(seen, 1), -1.0)


# The ladder: real images made slightly worse, judged the same way, so a figure reads as "about as
# detectable as a 1 px blur". Keys are report keys.
def _ladder_rungs() -> dict:
    return {"real": lambda x: x, "blur_0.5px": lambda x: degrade.blur(x, 0.5),
            "blur_1px": lambda x: degrade.blur(x, 1.0),
            "noise_3": lambda x: degrade.noise(x, 3.0), "jpeg_90": lambda x: degrade.jpeg(x, 90)}


LADDER_NAMES = {"real": "real vs real", "blur_0.5px": "blur 0.5 px", "blur_1px": "blur 1 px",
                "noise_3": "noise 3/255", "jpeg_90": "JPEG 90"}


def real_halves(images: np.ndarray, p: Protocol = Protocol()) -> tuple[np.ndarray, np.ndarray]:
    """Two disjoint sets of real images, one protocol's worth each: the side every model is judged
    against, and the other side the ladder degrades."""
    need = p.n_train + p.n_test
    if len(images) < 2 * need:
        raise ValueError(f"the detectability ladder needs {2 * need} real images; the dataset holds {len(images)}")
    order = np.random.default_rng(7).permutation(len(images))
    return np.asarray(images[np.sort(order[:need])]), np.asarray(images[np.sort(order[need:2 * need])])


def ladder(images: np.ndarray, p: Protocol = Protocol(), progress: bool = False, rungs=None) -> dict:
    """Detectability of each rung (all, or the named ones) against the judged side:
    {rung: {detectability, auc, stderr, ...}}."""
    judged, other = real_halves(images, p)
    out = {}
    for name, make in _ladder_rungs().items():
        if rungs is not None and name not in rungs:
            continue
        out[name] = detectability(judged, make(other), p,
                                  progress=f"detector fits, ladder rung {LADDER_NAMES[name]}" if progress else None)
    return out


def on_ladder(value: float, rungs: dict) -> str:
    """Where a detectability sits on its ladder (rung -> a detectability result), in words."""
    return degrade.ladder_position(value, {k: r["detectability"] for k, r in rungs.items()}, LADDER_NAMES,
                                   worse="more detectable than")
