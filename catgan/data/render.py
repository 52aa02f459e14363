"""Procedural sticker cats: the embedded default dataset.

A cat is a list of shapes in unit coordinates (0..1, y down). Each image draws
them at 4x the target size and downsamples with a box filter (anti-aliasing).
Every random choice comes from a generator seeded by (seed, index), so an image
depends only on its seed and index, never on batch or process layout.
"""
from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw

RENDERER_VERSION = 1
SUPERSAMPLE = 4

POSES = ("sitting", "loaf", "lying_left", "lying_right", "sleeping", "stretching", "upside_down")
ITEMS = ("none", "taco", "donut", "heart", "party_hat", "cup", "ball")
COATS = {  # fill, stripes/darker detail
    "grey": ((178, 170, 164), (122, 114, 110)),
    "orange": ((238, 164, 84), (188, 108, 48)),
    "black": ((70, 68, 74), (36, 36, 40)),
    "cream": ((246, 232, 204), (204, 182, 150)),
}
EYES = ("open", "closed")
OUTLINE = (58, 50, 48)
LABEL_NAMES = {"pose": POSES, "item": ITEMS, "coat": tuple(COATS), "eyes": EYES}

# Per pose: body ellipse, head centre, paws, tail ellipse, where an item sits.
# Ellipses are (cx, cy, rx, ry, degrees).
_POSES = {
    "sitting": dict(body=(0.50, 0.63, 0.20, 0.21, 0), head=(0.50, 0.37),
                    paws=[(0.42, 0.83), (0.58, 0.83)], tail=(0.73, 0.70, 0.04, 0.12, 25), item=(0.22, 0.78)),
    "loaf": dict(body=(0.54, 0.62, 0.30, 0.17, 0), head=(0.36, 0.50),
                 paws=[(0.30, 0.78), (0.46, 0.79)], tail=(0.86, 0.56, 0.035, 0.10, -40), item=(0.80, 0.84)),
    "lying_left": dict(body=(0.55, 0.68, 0.32, 0.12, 0), head=(0.27, 0.57),
                       paws=[(0.14, 0.76), (0.24, 0.79)], tail=(0.90, 0.72, 0.10, 0.035, 10), item=(0.70, 0.46)),
    "sleeping": dict(body=(0.52, 0.62, 0.28, 0.19, 0), head=(0.36, 0.62),
                     paws=[(0.30, 0.80)], tail=(0.60, 0.80, 0.22, 0.04, 0), item=(0.76, 0.36)),
    "stretching": dict(body=(0.56, 0.58, 0.28, 0.12, -15), head=(0.30, 0.64),
                       paws=[(0.13, 0.78), (0.19, 0.79), (0.74, 0.74)], tail=(0.86, 0.40, 0.035, 0.12, 35),
                       item=(0.62, 0.86)),
}
_POSES["lying_right"] = _POSES["lying_left"]          # drawn mirrored
_POSES["upside_down"] = _POSES["sitting"]             # drawn rotated by 180 degrees


def _ellipse(cx, cy, rx, ry, deg=0.0, n=36):
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    a = math.radians(deg)
    x, y = rx * np.cos(t), ry * np.sin(t)
    return np.stack([cx + x * math.cos(a) - y * math.sin(a), cy + x * math.sin(a) + y * math.cos(a)], 1)


def _heart(cx, cy, r, n=40):
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    x = 16 * np.sin(t) ** 3
    y = -(13 * np.cos(t) - 5 * np.cos(2 * t) - 2 * np.cos(3 * t) - np.cos(4 * t))
    return np.stack([cx + x * r / 16, cy + y * r / 16], 1)


def _arc(cx, cy, rx, ry, start, end, n=10):
    t = np.radians(np.linspace(start, end, n))
    return np.stack([cx + rx * np.cos(t), cy + ry * np.sin(t)], 1)


def _shade(rgb, f):
    return tuple(int(np.clip(c * f, 0, 255)) for c in rgb)


class _Canvas:
    """Draws unit-coordinate shapes through one affine jitter transform."""

    def __init__(self, size, mirror, angle_deg, scale, shift):
        self.px = size * SUPERSAMPLE
        self.image = Image.new("RGB", (self.px, self.px), (255, 255, 255))
        self.draw = ImageDraw.Draw(self.image)
        self.mirror, self.scale, self.shift = mirror, scale, shift
        a = math.radians(angle_deg)
        self.rot = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])

    def xy(self, pts):
        p = np.asarray(pts, dtype=float).reshape(-1, 2).copy()
        if self.mirror:
            p[:, 0] = 1.0 - p[:, 0]
        p = (p - 0.5) @ self.rot.T * self.scale + 0.5 + self.shift
        return [tuple(q) for q in (p * self.px)]

    def width(self, w):
        return max(1, int(round(w * self.px * self.scale)))

    def poly(self, pts, fill, outline=None, w=0.0):
        self.draw.polygon(self.xy(pts), fill=fill, outline=outline, width=self.width(w) if outline else 1)

    def line(self, pts, fill, w):
        self.draw.line(self.xy(pts), fill=fill, width=self.width(w), joint="curve")


def _draw_cat(c: _Canvas, geo, coat, dark, eyes_open):
    hx, hy = geo["head"]
    head = _ellipse(hx, hy, 0.17, 0.13)
    ears = [np.array([[hx - 0.15, hy - 0.04], [hx - 0.12, hy - 0.19], [hx - 0.04, hy - 0.11]]),
            np.array([[hx + 0.15, hy - 0.04], [hx + 0.12, hy - 0.19], [hx + 0.04, hy - 0.11]])]
    silhouette = [_ellipse(*geo["body"]), _ellipse(*geo["tail"]), head, *ears]
    silhouette += [_ellipse(x, y, 0.045, 0.03) for x, y in geo["paws"]]
    for shape in silhouette:                      # outline pass: a dilated silhouette...
        c.poly(shape, OUTLINE, OUTLINE, 0.022)
    for shape in silhouette:                      # ...then the fill hides the inner edges
        c.poly(shape, coat)
    for dx in (-0.035, 0.0, 0.035):               # forehead stripes
        c.line([(hx + dx, hy - 0.125), (hx + dx * 1.2, hy - 0.085)], dark, 0.014)
    for ex in (hx - 0.075, hx + 0.075):
        if eyes_open:
            c.poly(_ellipse(ex, hy + 0.01, 0.02, 0.026, n=16), OUTLINE)
            c.poly(_ellipse(ex + 0.006, hy - 0.002, 0.007, 0.008, n=10), (255, 255, 255))
        else:
            c.line(_arc(ex, hy + 0.004, 0.024, 0.016, 10, 170), OUTLINE, 0.011)
    c.line([(hx - 0.025, hy + 0.045), (hx - 0.012, hy + 0.058), (hx, hy + 0.048),
            (hx + 0.012, hy + 0.058), (hx + 0.025, hy + 0.045)], OUTLINE, 0.009)
    for side in (-1, 1):                          # whiskers
        for dy in (0.025, 0.05):
            c.line([(hx + side * 0.12, hy + dy), (hx + side * 0.21, hy + dy + (dy - 0.04) * 0.6)], OUTLINE, 0.006)
    bx, by, brx, bry, _ = geo["tail"]             # one stripe across the tail tip
    c.line([(bx - brx, by - bry * 0.5), (bx + brx, by - bry * 0.3)], dark, 0.012)


def _draw_item(c: _Canvas, item, anchor, head, rng):
    x, y = anchor
    if item == "taco":
        c.poly(_arc(x, y + 0.03, 0.09, 0.09, 180, 360, 18), (120, 180, 60))
        c.poly(_arc(x, y + 0.04, 0.085, 0.08, 180, 360, 18), (246, 200, 90), OUTLINE, 0.008)
        c.line([(x - 0.04, y - 0.04), (x + 0.02, y - 0.045)], (220, 60, 50), 0.015)
    elif item == "donut":
        c.poly(_ellipse(x, y, 0.075, 0.06), (206, 150, 92), OUTLINE, 0.008)
        c.poly(_ellipse(x, y - 0.006, 0.06, 0.045), (246, 150, 190))
        c.poly(_ellipse(x, y, 0.022, 0.016, n=16), (255, 255, 255), OUTLINE, 0.006)
    elif item == "heart":
        c.poly(_heart(x, y, 0.07), (226, 40, 70), OUTLINE, 0.008)
    elif item == "party_hat":
        hx, hy = head
        hat = [(hx - 0.06, hy - 0.12), (hx + 0.06, hy - 0.12), (hx + rng.uniform(-0.02, 0.02), hy - 0.30)]
        c.poly(hat, (90, 120, 230), OUTLINE, 0.008)
        c.line([(hx - 0.035, hy - 0.17), (hx + 0.035, hy - 0.17)], (250, 220, 60), 0.016)
        c.poly(_ellipse(hat[2][0], hat[2][1], 0.022, 0.022, n=12), (240, 70, 110))
    elif item == "cup":
        c.line(_arc(x + 0.05, y, 0.035, 0.03, -90, 90), OUTLINE, 0.012)
        c.poly([(x - 0.055, y - 0.06), (x + 0.055, y - 0.06), (x + 0.045, y + 0.06), (x - 0.045, y + 0.06)],
               (110, 200, 220), OUTLINE, 0.008)
        c.poly(_ellipse(x, y - 0.06, 0.055, 0.015, n=16), (120, 80, 50))
    elif item == "ball":
        c.poly(_ellipse(x, y, 0.06, 0.06), (160, 90, 200), OUTLINE, 0.008)
        for k in (-1, 0, 1):
            c.line(_arc(x + k * 0.02, y, 0.03, 0.055, -70, 70, 8), (110, 50, 150), 0.008)


def sample_labels(rng: np.random.Generator) -> dict:
    return {name: str(values[rng.integers(len(values))]) for name, values in LABEL_NAMES.items()}


# The continuous jitter every sticker draws, with its range: what varies within one label combination.
JITTER = {"shade": (0.9, 1.1), "angle": (-12.0, 12.0), "scale": (0.85, 1.08),
          "shift_x": (-0.05, 0.05), "shift_y": (-0.05, 0.05)}


def render(size: int, rng: np.random.Generator, labels: dict | None = None) -> tuple[np.ndarray, dict]:
    """One sticker: a uint8 (size, size, 3) array and its labels (drawn from rng unless given)."""
    image, labels, _ = render_with_jitter(size, rng, labels)
    return image, labels


def render_with_jitter(size: int, rng: np.random.Generator, labels: dict | None = None):
    """`render`, plus the sticker's continuous jitter (the keys of JITTER)."""
    labels = dict(labels) if labels else sample_labels(rng)
    pose = labels["pose"]
    fill, dark = COATS[labels["coat"]]
    shade = rng.uniform(0.9, 1.1)
    angle = rng.uniform(-12, 12)
    scale, shift = rng.uniform(0.85, 1.08), rng.uniform(-0.05, 0.05, 2)
    c = _Canvas(size, mirror=pose == "lying_right", angle_deg=angle + (180.0 if pose == "upside_down" else 0.0),
                scale=scale, shift=shift)
    geo = _POSES[pose]
    _draw_cat(c, geo, _shade(fill, shade), _shade(dark, shade), labels["eyes"] == "open")
    _draw_item(c, labels["item"], geo["item"], geo["head"], rng)
    small = c.image.resize((size, size), Image.Resampling.BOX)
    jitter = {"shade": shade, "angle": angle, "scale": scale, "shift_x": float(shift[0]), "shift_y": float(shift[1])}
    return np.asarray(small, dtype=np.uint8), labels, jitter


def render_one(seed: int, index: int, size: int, labels: dict | None = None) -> tuple[np.ndarray, dict]:
    return render(size, np.random.default_rng([seed, index]), labels)
