"""Labels a conditional model is trained on and sampled with, as one float vector per image.

A label space is a few attributes, each with its values: the renderer's four (pose, item, coat, eyes), a
user's folder's classes (one per sub-folder, torchvision's ImageFolder convention), or clusters. A label
is one value per attribute (an integer index each), and its vector is the attributes' one-hots side by
side (20 numbers for the stickers), the input every family's label embedding and projection take.
A blend of two labels is a blend of their vectors (Corners and Morph may use one).

The data's mix travels with a model (`LabelSpace.mix`: each distinct label and its share of the training
images), so a seed draws its label from it on any machine, without the dataset.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


class LabelError(ValueError):
    """A label that does not fit: the message names it and what would fit."""


@dataclass
class LabelSpace:
    attributes: dict[str, list[str]]           # attribute -> its values, in order
    kind: str = "labels"                       # labels | folders | clusters
    mix: list[tuple[tuple[int, ...], float]] | None = None   # (label, share of the data), largest first

    @property
    def dim(self) -> int:
        return sum(len(v) for v in self.attributes.values())

    @property
    def names(self) -> list[str]:
        return list(self.attributes)

    # --- to and from what a checkpoint's config keeps -------------------------
    def to_json(self) -> dict:
        return {"kind": self.kind, "attributes": self.attributes,
                "mix": [[list(label), share] for label, share in self.mix] if self.mix else None}

    @classmethod
    def from_json(cls, d: dict | None) -> "LabelSpace | None":
        if not d:
            return None
        mix = [(tuple(int(i) for i in label), float(share)) for label, share in d["mix"]] if d.get("mix") else None
        return cls({k: list(v) for k, v in d["attributes"].items()}, d.get("kind", "labels"), mix)

    @classmethod
    def of_dataset(cls, labels: dict[str, np.ndarray], names: dict[str, list[str]], kind: str = "labels"):
        """The space of a dataset's integer labels by attribute (catgan.data.dataset.Dataset.labels), with
        the data's mix."""
        attrs = {k: list(names.get(k) or [str(i) for i in range(int(np.max(v)) + 1)]) for k, v in labels.items()}
        space = cls(attrs, kind)
        rows = space.rows(labels)
        combos, counts = np.unique(rows, axis=0, return_counts=True)
        order = np.argsort(-counts, kind="stable")
        space.mix = [(tuple(int(i) for i in combos[j]), round(float(counts[j] / len(rows)), 6)) for j in order]
        return space

    # --- labels as index rows and as vectors ----------------------------------
    def rows(self, labels: dict[str, np.ndarray]) -> np.ndarray:
        """Integer labels by attribute -> an N x attributes array of indices."""
        missing = [k for k in self.attributes if k not in labels]
        if missing:
            raise LabelError(f"labels lack {', '.join(missing)}; this model's labels are {', '.join(self.names)}")
        return np.stack([np.asarray(labels[k], dtype=np.int64) for k in self.attributes], axis=1)

    def vectors(self, rows) -> torch.Tensor:
        """N x attributes index rows -> N x dim float vectors (one-hots side by side)."""
        rows = torch.as_tensor(np.asarray(rows, dtype=np.int64)).reshape(-1, len(self.attributes))
        parts = [torch.nn.functional.one_hot(rows[:, i], len(values)).float()
                 for i, values in enumerate(self.attributes.values())]
        return torch.cat(parts, dim=1)

    def parse(self, choice: dict[str, str | None]) -> dict[str, int | None]:
        """{"pose": "sleeping", "item": None, ...} -> indices (None: any); an unknown name or value is refused."""
        out = {}
        for key, value in choice.items():
            if key not in self.attributes:
                raise LabelError(f"unknown label attribute {key!r}; this model's are {', '.join(self.names)}")
            if value in (None, "", "any"):
                out[key] = None
            elif value not in self.attributes[key]:
                raise LabelError(f"unknown {key} {value!r}; choose from {', '.join(self.attributes[key])}")
            else:
                out[key] = self.attributes[key].index(value)
        return out

    def draw(self, n: int, generator: torch.Generator, fixed: dict[str, int | None] | None = None) -> np.ndarray:
        """n index rows drawn from the data's mix by `generator` (a seed's draw is the same on every
        machine); attributes fixed in `fixed` are held at their value and the rest drawn from the data's
        mix among labels with those values (any, where the data holds none: then uniformly)."""
        if not self.mix:
            raise LabelError("this label space carries no data mix to draw labels from")
        fixed = {k: v for k, v in (fixed or {}).items() if v is not None}
        cols = {k: i for i, k in enumerate(self.attributes)}
        pool = [(label, share) for label, share in self.mix if all(label[cols[k]] == v for k, v in fixed.items())]
        if not pool:                                  # a combination the data lacks: the rest uniformly
            pick = [[fixed.get(k, int(torch.randint(len(vals), (1,), generator=generator)))
                     for k, vals in self.attributes.items()] for _ in range(n)]
            return np.asarray(pick, dtype=np.int64)
        shares = torch.tensor([s for _, s in pool], dtype=torch.float64)
        idx = torch.multinomial(shares, n, replacement=True, generator=generator)
        return np.asarray([pool[i][0] for i in idx.tolist()], dtype=np.int64)

    def describe(self, row) -> str:
        """An index row in words: "sleeping, cup, orange, closed"."""
        return ", ".join(vals[int(i)] for vals, i in zip(self.attributes.values(), row))
