"""The family-agnostic training loop.

A run folder holds everything about one run:
  config.json      what was asked for (and the family's full config)
  status.json      state, step, total, heartbeat, error; rewritten atomically
  metrics.jsonl    one JSON line every `log_every` steps
  samples/         step_000250.png ...: 16 fixed latents, the training time-lapse
  checkpoint.safetensors   weights, optimisers and state (atomic; resumed from)
  quality.jsonl    a robust FD / coverage point every `eval_kimg` thousand images (catgan.train.quality)
  best.safetensors the sampling net and D at the best quality point (no optimisers)
  points/          with keep_points: every quality point's sampling net and D, step_0012500.safetensors ...
Everything random in a step (batch order, noise) derives from (seed, step), so a
run resumed from a checkpoint repeats an uninterrupted run step for step.
"""
from __future__ import annotations

import contextlib
import json
import math
import os
import signal
import socket
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from filelock import FileLock, Timeout
from tqdm import tqdm

from catgan.catalogue import POINTS, lineage, read_json
from catgan.data.dataset import DEFAULT_NAME, resolve_dataset
from catgan.device import choose_precision, machine_summary, pick_device
from catgan.io import atomic_write_bytes, atomic_write_json
from catgan.labels import LabelSpace
from catgan.media import grid_png
from catgan.models import diffaug, get_family
from catgan.models.layers import set_label_strength
from catgan.pixels import from_uint8, to_uint8
from catgan.runs import line_step
from catgan.checkpoint import (CheckpointError, flatten_optimizer, load_checkpoint, read_meta,
                                     save_checkpoint, unflatten_optimizer)
from catgan.train.quality import BEST, FitStopped, QualityHook, default_eval_kimg


CHECKPOINT = "checkpoint.safetensors"
N_FIXED = 16
DEFAULT_WARMUP_KIMG = 20        # a run continued --init-from ramps its learning rates up over 20 k images


@dataclass
class TrainConfig:
    model: str = "dcgan"
    data: str = "stickers"
    out: str = "runs/dcgan"
    preset: str = "cpu"
    steps: int = 4000
    resolution: int = 64
    batch: int | None = None
    lr: float | None = None
    seed: int = 0
    log_every: int = 10
    sample_every: int = 250
    checkpoint_every: int = 500
    max_minutes: float | None = None     # stop (and save) after this much training time, steps left or not
    max_kimg: float | None = None        # stop (and save) after this many thousand images, steps left or not
    precision: str = "auto"     # auto | fp32 | bf16 (catgan.device.choose_precision)
    bf16: bool = False          # the old flag: a synonym for precision="bf16"
    device: str | None = None
    threads: int | None = None
    overrides: dict = field(default_factory=dict)   # any family config key, e.g. {"ngf": 8}
    progress: bool = True
    eval_kimg: float | None = None     # a quality point every this many thousand images; None: about 15 a run; 0: off
    eval_n: int | None = None          # samples per point (catgan.train.quality.DEFAULT_N)
    eval_space: str | None = None      # feature space; None: the dataset's robust one
    patience_kimg: float | None = None  # stop when the best point is this many thousand images old
    keep_points: bool = False          # keep every quality point's sampling net in points/ (to judge them later)
    init_from: str | None = None       # a new run starts from these weights (fresh optimisers; see init_weights)
    warmup_kimg: float | None = None   # after --init-from, learning rates ramp up from 0 over this many k images
    cond: str | None = None            # "labels": condition G and D on the dataset's labels (catgan.labels)


class TrainingFailed(RuntimeError):
    pass


class RunBusy(RuntimeError):
    pass


def read_status(run: str | Path) -> dict | None:
    try:
        return json.loads((Path(run) / "status.json").read_text())
    except (OSError, json.JSONDecodeError):
        return None


class _Distributed:
    """torchrun's environment, if any: rank, world size, and the device for this rank."""

    def __init__(self, device):
        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        self.device = pick_device(device)
        if self.world > 1:
            if self.device.type == "cuda":
                self.device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
                torch.cuda.set_device(self.device)
            torch.distributed.init_process_group("nccl" if self.device.type == "cuda" else "gloo")

    @property
    def main(self):
        return self.rank == 0

    def close(self):
        if self.world > 1 and torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()


class Batches:
    """Batch `step` of an epoch-wise shuffle seeded by (seed, epoch); drop-last; sharded by rank."""

    def __init__(self, images: torch.Tensor, batch: int, seed: int, rank: int = 0, world: int = 1):
        self.images, self.batch, self.seed, self.rank, self.world = images, batch, seed, rank, world
        self.per_epoch = len(images) // (batch * world)
        if self.per_epoch == 0:
            raise ValueError(f"the dataset has {len(images)} images, fewer than one batch of {batch * world}; "
                             "use a smaller --batch or more data")
        self._epoch, self._perm = -1, None

    def indices(self, step: int) -> torch.Tensor:
        """Which training images batch `step` holds."""
        epoch, i = divmod(step, self.per_epoch)
        if epoch != self._epoch:
            g = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
            self._epoch, self._perm = epoch, torch.randperm(len(self.images), generator=g)
        start = (i * self.world + self.rank) * self.batch
        return self._perm[start:start + self.batch]

    def __call__(self, step: int) -> torch.Tensor:
        return from_uint8(self.images[self.indices(step)])


def load_images(data: str, resolution: int):
    """The dataset's images as one uint8 tensor N x H x W x 3 at `resolution`, its summary, and the dataset."""
    ds = resolve_dataset(data, resolution)
    x = torch.from_numpy(np.array(ds.images))          # into RAM: batches index it randomly
    if ds.resolution != resolution:      # e.g. a 128 px dataset for a 64 px model: area-resize once
        x = F.interpolate(x.permute(0, 3, 1, 2).float(), size=resolution, mode="area")
        x = x.round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).contiguous()
    name = data if data == DEFAULT_NAME else None          # the embedded default is rebuilt anywhere by name
    return x, {"name": name, "path": str(ds.path), "count": len(ds), "source": ds.info.get("source"),
               "resolution": ds.resolution, "originals": ds.originals,
               **{k: ds.info[k] for k in ("seed", "renderer_version") if k in ds.info}}, ds   # to recreate renders


def cond_overrides(cond: str | None, ds) -> dict:
    """--cond as config values: the label space with the data's mix (catgan.labels)."""
    if cond is None:
        return {}
    if cond != "labels":
        raise ValueError(f"--cond {cond!r} is not a kind of conditioning catgan knows; use --cond labels (the "
                         "dataset's own labels)")
    if not ds.labels:
        raise ValueError(f"--cond labels needs a dataset with labels, and {ds.path} has none: the embedded "
                         "stickers (--data stickers, or `catgan prepare synthetic`) carry pose, item, coat and eyes; "
                         "train without --cond on this data")
    space = LabelSpace.of_dataset(ds.labels, ds.label_names)
    return {"label_dim": space.dim, "labels": space.to_json()}


def _step_generator(seed: int, step: int, rank: int) -> torch.Generator:
    return torch.Generator().manual_seed((seed * 1_000_003 + step) * 64 + rank)


class Trainer:
    def __init__(self, cfg: TrainConfig):
        self.cfg = cfg
        self.out = Path(cfg.out)
        self.dist = _Distributed(cfg.device)
        if cfg.patience_kimg and self.dist.world > 1:    # only rank 0 measures, so only it could decide
            raise ValueError("--patience-kimg works with a single training process, not under torchrun")
        if cfg.threads:
            torch.set_num_threads(cfg.threads)
        torch.manual_seed(cfg.seed)              # weight init; the rest derives from (seed, step)
        family_cls = get_family(cfg.model)
        self.images, self.dataset_info, dataset = load_images(cfg.data, cfg.resolution)
        # --set's values, with --cond's label space under them (config.json keeps the flags as given)
        self.overrides = {**cond_overrides(cfg.cond, dataset), **cfg.overrides}
        self.model_cfg = self._saved_config() or self._source_config() or diffaug.few_shot_defaults(
            family_cls.config(cfg.preset, **{"resolution": cfg.resolution, "batch": cfg.batch, "lr": cfg.lr,
                                             **self.overrides}),
            self.dataset_info["originals"], self.overrides)
        self.precision = choose_precision("bf16" if cfg.bf16 else cfg.precision, self.dist.device)
        if self.precision.warning and self.dist.main:
            warnings.warn(self.precision.warning, stacklevel=2)
        self.machine = {**machine_summary(self.dist.device), "precision": self.precision.name,
                        "precision_reason": self.precision.reason}
        self.family = family_cls(self.model_cfg, self.dist.device, ddp=self.dist.world > 1,
                                 bf16=self.precision.bf16)
        self.batches = Batches(self.images, self.model_cfg["batch"], cfg.seed, self.dist.rank, self.dist.world)
        self.fixed_z = torch.randn(N_FIXED, self.model_cfg["latent_dim"],
                                   generator=torch.Generator().manual_seed(cfg.seed + 777))
        self.labels = LabelSpace.from_json(self.model_cfg.get("labels")) if self.family.conditional else None
        self.fixed_c = None
        if self.labels:
            if not dataset.labels:
                raise ValueError(f"this run is conditioned on labels ({', '.join(self.labels.names)}), and "
                                 f"{dataset.path} has none; train it on the data it started with")
            self.family.label_table = self.labels.vectors(self.labels.rows(dataset.labels)).to(self.dist.device)
            self.fixed_c = self.labels.vectors(self.labels.draw(N_FIXED, torch.Generator().manual_seed(cfg.seed + 778)))
        self.cond_from = 0                   # the step the labels started ramping in (a fork: where it forked)
        self.step, self.train_seconds, self.quality_seconds = 0, 0.0, 0.0
        self.warmup_from = None              # the step a run continued --init-from started at (its warm-up)
        self.eval_kimg = (default_eval_kimg(cfg.steps, self.model_cfg["batch"], cfg.max_minutes, cfg.max_kimg)
                          if cfg.eval_kimg is None else cfg.eval_kimg)
        self.quality = (QualityHook(self.out, dataset, self.model_cfg["latent_dim"], self.eval_kimg, cfg.eval_n,
                                    cfg.eval_space, self.labels) if self.eval_kimg and self.dist.main else None)
        self.stop_requested, self.stop_reason = False, None
        self.parents = None                 # the models this run started from (set when it starts)
        self.started = time.strftime("%Y-%m-%dT%H:%M:%S")

    def _saved_config(self) -> dict | None:
        """A run being resumed keeps the config it was started with, even if its preset has changed since;
        asking it for other values (--set, --lr, --batch) is refused rather than silently ignored."""
        try:
            meta = read_meta(self.out / CHECKPOINT)
        except (CheckpointError, OSError):
            return None                   # no checkpoint (a new run), or resume() will explain what is wrong
        if meta.get("family") != self.cfg.model:
            return None
        saved = meta.get("config", {})
        asked = {"batch": self.cfg.batch, "lr": self.cfg.lr, **self.overrides}
        changed = {k: v for k, v in asked.items() if v is not None and saved.get(k) != v}
        if changed:
            said = ", ".join(f"{k}={v} (it has {saved.get(k)})" for k, v in changed.items())
            raise ValueError(f"{self.out} is a run being resumed, and it keeps the config it started with; "
                             f"asked for {said}. Rerun without them, or branch a new run from it: --out NEW "
                             f"--init-from {self.out / CHECKPOINT} with the new values")
        return saved

    def _source_config(self) -> dict | None:
        """A run started --init-from another model takes that model's config (its architecture), with this
        run's --batch, --lr and --set on top."""
        if not self.cfg.init_from:
            return None
        meta = read_meta(self.cfg.init_from)
        if meta.get("family") != self.cfg.model or int(meta.get("resolution", -1)) != self.cfg.resolution:
            raise ValueError(f"--init-from {self.cfg.init_from} is a {meta.get('family')} model at "
                             f"{meta.get('resolution')} px; this run trains {self.cfg.model} at "
                             f"{self.cfg.resolution} px: choose a matching model, or --model/--resolution")
        if int(meta.get("step", 0)) > self.cfg.steps:
            raise ValueError(f"--init-from {self.cfg.init_from} is at step {meta['step']:,}, past --steps "
                             f"{self.cfg.steps:,}: its steps carry on, so --steps (like --kimg) counts from its "
                             "first step; pass a larger --steps, e.g. --steps 100000000 with --minutes or --kimg")
        explicit = {"batch": self.cfg.batch, "lr": self.cfg.lr, **self.overrides}
        return {**meta["config"], **{k: v for k, v in explicit.items() if v is not None}}

    # --- files --------------------------------------------------------------
    def status(self, state: str, error: str | None = None, **extra):
        if self.dist.main:
            atomic_write_json(self.out / "status.json", {
                "state": state, "step": self.step, "total": self.cfg.steps, "model": self.cfg.model,
                "heartbeat": time.time(), "started": self.started, "pid": os.getpid(),
                "host": socket.gethostname(), "error": error, **self.machine, **extra})

    def meta(self) -> dict:
        return {"family": self.cfg.model, "config": self.model_cfg, "resolution": self.cfg.resolution,
                "latent_dim": self.model_cfg["latent_dim"], "dataset": self.dataset_info, "step": self.step,
                "train_seconds": round(self.train_seconds, 1), "quality_seconds": round(self.quality_seconds, 1),
                "images_seen": self.step * self.model_cfg["batch"] * self.dist.world, "seed": self.cfg.seed,
                "bf16": self.precision.bf16, "machine": self.machine,
                "world_size": self.dist.world, "sample_net": self.family.sample_net,
                "sample_kwargs": self.family.sample_kwargs(), "state": self.family.extra_state(),
                "warmup_from": self.warmup_from, "cond_from": self.cond_from,
                **({"parents": self.parents} if self.parents else {})}   # lineage survives a copied checkpoint

    def save(self):
        if not self.dist.main:
            return
        tensors, groups = {}, {}
        for name, net in self.family.nets.items():
            tensors.update({f"{name}.{k}": v for k, v in net.state_dict().items()})
        for name, opt in self.family.opt.items():
            t, groups[name] = flatten_optimizer(f"opt_{name}", opt)
            tensors.update(t)
        save_checkpoint(self.out / CHECKPOINT, tensors, {**self.meta(), "optimizer_groups": groups})

    def save_best(self, row: dict, path: Path | None = None):
        """The sampling net and D as they are now, the point's scores in the metadata."""
        keep = (self.family.sample_net, "D")
        tensors = {f"{name}.{k}": v for name in keep for k, v in self.family.nets[name].state_dict().items()}
        save_checkpoint(path or self.out / BEST, tensors, {**self.meta(), "best": row})

    def resume(self) -> bool:
        path = self.out / CHECKPOINT
        if not path.exists():
            return False
        tensors, meta = load_checkpoint(path)
        if meta["family"] != self.cfg.model:
            raise ValueError(f"{self.out} holds a {meta['family']} run, not {self.cfg.model}; choose another --out")
        why = self.family.cannot_resume(tensors)
        if why:
            raise ValueError(f"{self.out} cannot be resumed: {why}. Continue it as a new run from its weights: "
                             f"--out NEW --init-from {path} (fresh optimisers, warmed up)")
        for name, net in self.family.nets.items():
            prefix = name + "."
            net.load_state_dict({k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)})
        self.step, self.train_seconds = int(meta["step"]), float(meta.get("train_seconds", 0.0))
        self.quality_seconds = float(meta.get("quality_seconds", 0.0))
        for name, opt in self.family.opt.items():
            unflatten_optimizer(f"opt_{name}", tensors, meta["optimizer_groups"][name], opt)
        self.family.load_extra_state(meta.get("state", {}))
        self.warmup_from = meta.get("warmup_from")
        self.cond_from = int(meta.get("cond_from") or 0)
        if self.dist.main:                       # forget metrics logged after the checkpoint
            self._forget_metrics_after(self.step)
            if self.quality:
                self.quality.forget_after(self.step)
        return True

    def init_weights(self, path: str | Path):
        """A new run from a model's weights with fresh optimisers: G and D from the file (G from the
        sampling net, G_ema, where the file keeps no raw G, as a shipped model or a best point does), and
        its step and family state (k_t, fade-in), so every schedule carries on where it was."""
        tensors, meta = load_checkpoint(path)
        part = {name: {k[len(name) + 1:]: v for k, v in tensors.items() if k.startswith(name + ".")}
                for name in ("G", "G_ema", "D")}
        sample = part["G_ema"] or part["G"]
        if not sample or not part["D"]:
            raise CheckpointError(f"{path}: --init-from needs a generator and a discriminator, and this file "
                                  "lacks one; use a run's checkpoint or best.safetensors, or a shipped model")
        try:
            fit = self.family.fit_weights
            self.family.G.load_state_dict(fit("G", part["G"] or sample))
            if "G_ema" in self.family.nets:
                self.family.nets["G_ema"].load_state_dict(fit("G_ema", sample))
            self.family.D.load_state_dict(fit("D", part["D"]))
        except (RuntimeError, ValueError) as e:
            raise CheckpointError(f"{path}: its weights do not fit this run's nets ({str(e).splitlines()[0]}); "
                                  "--set only what leaves the architecture as it is (lr, penalties, schedules; "
                                  "the growing WGAN may widen its channels above 4x4)")
        self.step = int(meta.get("step", 0))
        self.family.load_extra_state(meta.get("state", {}))
        self.warmup_from = self.step
        parent_conditional = bool(meta["config"].get("label_dim"))
        self.cond_from = int(meta.get("cond_from") or 0) if parent_conditional else self.step

    def warmup(self) -> float:
        """The learning rates' factor this step: fresh Adam moments on trained weights take full-size steps
        at once (about lr per weight, whatever the gradient's size), which can undo in a few hundred steps
        what the weights learnt, so a run continued --init-from ramps its rates up linearly (1 otherwise)."""
        kimg = DEFAULT_WARMUP_KIMG if self.cfg.warmup_kimg is None else self.cfg.warmup_kimg
        if self.warmup_from is None or not kimg:
            return 1.0
        images = (self.step - self.warmup_from + 1) * self.model_cfg["batch"] * self.dist.world
        return min(1.0, images / (kimg * 1000))

    @contextlib.contextmanager
    def _rates_scaled(self, factor: float):
        """Every optimiser's rates times `factor` for one step, then the schedule's own again (a family may
        set its rates once, not every step)."""
        groups = [g for opt in self.family.opt.values() for g in opt.param_groups]
        scheduled = [g["lr"] for g in groups]
        for g in groups:
            g["lr"] *= factor
        try:
            yield
        finally:
            for g, lr in zip(groups, scheduled):
                g["lr"] = lr

    def _forget_metrics_after(self, step: int):
        path = self.out / "metrics.jsonl"
        if path.exists():
            keep = [ln for ln in path.read_text().splitlines() if line_step(ln) is not None and line_step(ln) <= step]
            atomic_write_bytes(path, ("\n".join(keep) + "\n" if keep else "").encode())

    def label_strength(self, net: str = "D") -> float:
        """How far the labels are in for `net` ("G", "G_ema" or "D"): ramped from 0 to 1 over `cond_ramp_kimg`
        thousand images from where they started; a generator's wait at 0 for the first `cond_g_after_kimg`
        thousand, so it only follows labels once D has learnt to read them (before that its label weights'
        gradients are noise, which Adam turns into steps as large as a signal's)."""
        images = (self.step - self.cond_from) * self.model_cfg["batch"] * self.dist.world
        if net.startswith("G"):
            images -= (self.model_cfg.get("cond_g_after_kimg") or 0) * 1000
        ramp = (self.model_cfg.get("cond_ramp_kimg") or 0) * 1000
        return float(images >= 0) if not ramp else min(1.0, max(0.0, images / ramp))

    def sample(self, z: torch.Tensor, c: torch.Tensor | None = None) -> np.ndarray:
        """uint8 samples of the sampling net (eval mode) at the run's resolution; labels c where conditional."""
        net = self.family.nets[self.family.sample_net]
        was_training = net.training
        net.eval()
        with torch.no_grad():
            z = z.to(self.dist.device)
            x = (net(z, c.to(self.dist.device), **self.family.sample_kwargs()) if c is not None
                 else net(z, **self.family.sample_kwargs()))
        net.train(was_training)
        if x.shape[-1] != self.cfg.resolution:
            x = F.interpolate(x.float(), size=self.cfg.resolution, mode="nearest")
        return to_uint8(x).numpy()

    def write_samples(self):
        if self.dist.main:
            atomic_write_bytes(self.out / "samples" / f"step_{self.step:06d}.png",
                               grid_png(self.sample(self.fixed_z, self.fixed_c), cols=4))

    def measure_quality(self, images_seen: int):
        try:
            row = self.quality.measure(self.step, images_seen, self.sample, self.train_seconds, self.family.reconstruct,
                                       should_stop=lambda: self.stop_requested)
        except FitStopped:          # Stop pressed while the point's detector was fitting: drop the point
            return
        self.quality_seconds += row["seconds"]
        if self.cfg.keep_points:
            (self.out / POINTS).mkdir(exist_ok=True)
            self.save_best(row, self.out / POINTS / f"step_{self.step:07d}.safetensors")
        if row["best"]:
            self.save_best(row)
            self.write_samples()           # the scrubber can show the best point
        self.save()            # a resumed run then never re-measures a point or loses a best one
        if self.quality.stale(images_seen, self.cfg.patience_kimg):
            self.stop_requested, self.stop_reason = True, (
                f"no better FD for {self.cfg.patience_kimg:g} k images (best at step {self.quality.best['step']})")

    # --- the loop -----------------------------------------------------------
    def run(self) -> dict:
        cfg = self.cfg
        self.out.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(self.out / "run.lock"))
        if self.dist.main:
            try:
                lock.acquire(timeout=0)
            except Timeout:
                raise RunBusy(f"{self.out} is already being trained by another process")
        old_handlers = {s: signal.signal(s, self._on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
        try:
            resumed = self.resume()
            if not resumed and cfg.init_from:
                self.init_weights(cfg.init_from)
            # where it came from, recorded when it started (a resumed run keeps that record)
            self.parents = (read_json(self.out / "config.json").get("parents") if resumed
                            else lineage(cfg.init_from) if cfg.init_from else None)
            if self.dist.main:
                atomic_write_json(self.out / "config.json", {**asdict(cfg), "model_config": self.model_cfg,
                                                             "machine": self.machine, "parents": self.parents,
                                                             "resumed_from": self.step if resumed else None})
            return self._loop()
        except TrainingFailed as e:
            self.status("failed", str(e))
            raise
        except Exception as e:
            self.status("failed", f"{type(e).__name__}: {e}")
            raise
        finally:
            for s, h in old_handlers.items():
                signal.signal(s, h)
            if self.dist.main:
                lock.release()
            self.dist.close()

    def _on_signal(self, signum, frame):
        self.stop_requested = True

    def _loop(self) -> dict:
        cfg = self.cfg
        self.status("running")
        if self.step == 0 or not list((self.out / "samples").glob("step_*.png")):
            self.write_samples()
        bar = tqdm(total=cfg.steps, initial=self.step, desc=f"train {cfg.model}", unit="step",
                   disable=not (cfg.progress and self.dist.main), mininterval=1.0)
        t_log, step_log, last = time.time(), self.step, {}
        budget = cfg.max_minutes * 60 if cfg.max_minutes else math.inf
        max_steps = min(cfg.steps, math.ceil(cfg.max_kimg * 1000 / (self.model_cfg["batch"] * self.dist.world))
                        if cfg.max_kimg else cfg.steps)
        while self.step < max_steps and not self.stop_requested and self.train_seconds < budget:
            t0 = time.time()
            self.family.begin_step(self.step)
            real = self.batches(self.step).to(self.dist.device).contiguous(memory_format=torch.channels_last)
            labels = None
            if self.labels:
                labels = self.family.label_table[self.batches.indices(self.step).to(self.dist.device)]
                for name, net in self.family.nets.items():
                    set_label_strength(net, self.label_strength(name))
            with self._rates_scaled(self.warmup()):
                metrics = self.family.train_step(real, _step_generator(cfg.seed, self.step, self.dist.rank),
                                                 self.step, labels)
                lrs = {f"lr_{k}": opt.param_groups[0]["lr"] for k, opt in self.family.opt.items()}
            bad = [k for k, v in metrics.items() if not math.isfinite(v)]
            if bad:
                raise TrainingFailed(f"{bad[0]} became {metrics[bad[0]]} at step {self.step}; the last good "
                                     f"checkpoint is kept. Try a lower learning rate, or --precision fp32.")
            self.step += 1
            n = real.shape[0] * self.dist.world
            self.family.update_ema(self.step * n, n)
            self.train_seconds += time.time() - t0
            if self.quality and self.quality.due(self.step * n, (self.step - 1) * n):
                self.measure_quality(self.step * n)
            bar.update(1)
            last = metrics
            if self.step % cfg.log_every == 0 or self.step == cfg.steps:
                now = time.time()
                ips = (self.step - step_log) * real.shape[0] * self.dist.world / max(now - t_log, 1e-9)
                self._log({"step": self.step, "time": round(now, 3), "images_per_s": round(ips, 1), **metrics, **lrs})
                self.status("running", images_per_s=round(ips, 1))
                t_log, step_log = now, self.step
            if self.step % cfg.sample_every == 0:
                self.write_samples()
            if self.step % cfg.checkpoint_every == 0:
                self.save()
        bar.close()
        self.save()
        if self.step % cfg.sample_every:
            self.write_samples()
        early = self.stop_reason is not None
        state = "stopped" if self.stop_requested and self.step < cfg.steps and not early else "finished"
        self.status(state, stop_reason=self.stop_reason)
        return {"state": state, "step": self.step, "last": last, "stop_reason": self.stop_reason}

    def _log(self, row: dict):
        if self.dist.main:
            with open(self.out / "metrics.jsonl", "a") as f:
                f.write(json.dumps(row) + "\n")


def train(cfg: TrainConfig) -> dict:
    return Trainer(cfg).run()
