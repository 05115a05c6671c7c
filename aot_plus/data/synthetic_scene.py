"""Rendering of one synthetic VOST-style video: textured blobs that move, deform, split, change colour, get
occluded and leave the frame, over a muted textured background, with void (255) where the label is ambiguous.

Everything is drawn from one NumPy generator, so a scene is a pure function of its seed. Objects are
star-shaped blobs defined in their own coordinates (radius as a function of angle, animated harmonics), so the
texture moves and deforms with them and a split object's halves carry their own texture.
"""
from __future__ import annotations

import colorsys
import math
from dataclasses import dataclass, field
from typing import Optional

import cv2
import numpy as np

VOID = 255
OCCLUDER_RGB = (205.0, 160.0, 130.0)


@dataclass
class Blob:
    """One object's appearance and motion; lengths in pixels, times in frames."""

    obj_id: int
    radius: float
    centre: np.ndarray
    velocity: np.ndarray
    wobble: tuple[float, float, float]
    harmonics: np.ndarray
    phases: np.ndarray
    phase_speed: np.ndarray
    angle: float
    spin: float
    colours: tuple[np.ndarray, np.ndarray]
    pattern: str
    period: float
    split_at: Optional[int] = None
    split_normal: np.ndarray = field(default_factory=lambda: np.array([1.0, 0.0]))
    recolour: Optional[tuple[int, int, np.ndarray]] = None
    exit_at: Optional[int] = None
    exit_velocity: np.ndarray = field(default_factory=lambda: np.zeros(2))

    def centre_at(self, t: int) -> np.ndarray:
        """Centre (y, x) at frame t."""
        amp, freq, phase = self.wobble
        c = self.centre + self.velocity * t + amp * np.array([math.sin(freq * t + phase), math.cos(freq * t)])
        if self.exit_at is not None and t > self.exit_at:
            c = c + self.exit_velocity * (t - self.exit_at) ** 1.5
        return c

    def primary_at(self, t: int) -> np.ndarray:
        """Primary colour at frame t (blends towards the new colour during a recolouring)."""
        if self.recolour is None:
            return self.colours[0]
        start, end, target = self.recolour
        w = min(max((t - start) / max(end - start, 1), 0.0), 1.0)
        w = w * w * (3 - 2 * w)
        return (1 - w) * self.colours[0] + w * target


@dataclass
class Occluder:
    """A skin-coloured arm that reaches in from one side over a target point and withdraws (label 0)."""

    start: int
    duration: int
    horizontal: bool
    far_side: bool
    thickness: float
    target: np.ndarray
    tilt: float

    def mask(self, t: int, height: int, width: int) -> np.ndarray:
        """Boolean ``[H, W]`` mask of the arm at frame t (empty outside its time window)."""
        covered = np.zeros((height, width), dtype=np.uint8)
        if not self.start <= t < self.start + self.duration:
            return covered > 0
        axis = 1 if self.horizontal else 0
        extent = (height, width)[axis]
        aim = self.target[axis] if not self.far_side else extent - self.target[axis]
        tip = (aim + 0.4 * self.thickness) * math.sin(math.pi * (t - self.start + 0.5) / self.duration)
        length = 2.0 * max(height, width)
        along = tip - length / 2 if not self.far_side else extent - tip + length / 2
        across = self.target[1 - axis]
        centre = (along, across) if self.horizontal else (across, along)
        size = (length, self.thickness) if self.horizontal else (self.thickness, length)
        box = cv2.boxPoints(((float(centre[0]), float(centre[1])), size, float(self.tilt)))
        cv2.fillConvexPoly(covered, np.round(box).astype(np.int32), 1)
        return covered > 0


@dataclass
class Scene:
    """A whole video: background, blobs, occluder and how many frames."""

    height: int
    width: int
    frames: int
    background: np.ndarray
    pan: np.ndarray
    blobs: list[Blob]
    occluder: Optional[Occluder]
    boundary_void_prob: float
    events: list[str]


def _vivid_colour(rng: np.random.Generator, hue: float) -> np.ndarray:
    r, g, b = colorsys.hsv_to_rgb(hue % 1.0, rng.uniform(0.6, 1.0), rng.uniform(0.65, 1.0))
    return np.array([r, g, b]) * 255.0


def _background(rng: np.random.Generator, height: int, width: int, margin: int) -> np.ndarray:
    """A muted texture (low saturation, luminance blotches, fine grain and soft streaks), larger than the frame."""
    h, w = height + 2 * margin, width + 2 * margin
    base = np.array(colorsys.hsv_to_rgb(rng.uniform(0, 1), rng.uniform(0.05, 0.2), rng.uniform(0.35, 0.6))) * 255

    def noise(cells: int, channels: int) -> np.ndarray:
        small = rng.normal(0, 1, (h // cells + 2, w // cells + 2, channels)).astype(np.float32)
        return cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC).reshape(h, w, channels)

    luminance = noise(24, 1) * 16.0 + noise(4, 1) * 6.0
    chroma = noise(32, 3) * 4.0
    yy = np.arange(h, dtype=np.float32)[:, None, None]
    streaks = np.sin(yy * rng.uniform(0.05, 0.2) + luminance / 8.0) * 5.0
    return np.clip(base + luminance + chroma + streaks, 0, 255).astype(np.uint8)


def make_scene(rng: np.random.Generator, frames: int, height: int, width: int, primary: str) -> Scene:
    """Draw a random scene whose main event is ``primary`` (split, recolour, occlusion or exit)."""
    unit = min(height, width) / 240.0
    margin = int(0.1 * max(height, width)) + 4
    count = int(rng.integers(1, 4))
    hue0 = rng.uniform(0, 1)
    blobs: list[Blob] = []
    for k in range(count):
        radius = float(rng.uniform(0.11, 0.19)) * min(height, width)
        for _ in range(30):
            centre = np.array([rng.uniform(radius * 1.3, height - radius * 1.3),
                               rng.uniform(radius * 1.3, width - radius * 1.3)])
            if all(np.linalg.norm(centre - b.centre) > 0.9 * (radius + b.radius) for b in blobs):
                break
        speed = rng.uniform(0.3, 1.2) * unit
        direction = rng.uniform(0, 2 * math.pi)
        blobs.append(Blob(
            obj_id=k + 1, radius=radius, centre=centre,
            velocity=speed * np.array([math.sin(direction), math.cos(direction)]),
            wobble=(rng.uniform(1, 6) * unit, rng.uniform(0.1, 0.35), rng.uniform(0, 2 * math.pi)),
            harmonics=rng.uniform(0.03, 0.13, 3), phases=rng.uniform(0, 2 * math.pi, 3),
            phase_speed=rng.uniform(-0.25, 0.25, 3), angle=rng.uniform(0, 2 * math.pi),
            spin=rng.uniform(-0.06, 0.06),
            colours=(_vivid_colour(rng, hue0 + k / count), _vivid_colour(rng, hue0 + k / count + 0.5)),
            pattern=str(rng.choice(["stripes", "checker", "dots"])), period=rng.uniform(6, 14) * unit))
    extra = {"split": 0.3, "recolour": 0.3, "occlusion": 0.3, "exit": 0.15 if count > 1 else 0.0}
    events = {primary} | {e for e, p in extra.items() if rng.random() < p}
    late = (max(2, frames // 3), max(3, frames - 3))
    if "split" in events:
        blob = blobs[int(rng.integers(count))]
        blob.split_at = int(rng.integers(*late)) if late[1] > late[0] else late[0]
        theta = rng.uniform(0, math.pi)
        blob.split_normal = np.array([math.sin(theta), math.cos(theta)])
    if "recolour" in events:
        blob = blobs[int(rng.integers(count))]
        start = int(rng.integers(1, max(2, frames // 2)))
        blob.recolour = (start, start + max(2, frames // 3), _vivid_colour(rng, rng.uniform(0, 1)))
    if "exit" in events:
        candidates = [b for b in blobs if b.split_at is None] or blobs
        blob = candidates[int(rng.integers(len(candidates)))]
        blob.exit_at = int(rng.integers(*late)) if late[1] > late[0] else late[0]
        axis = int(rng.integers(2))
        extent = (height, width)[axis]
        direction = 1.0 if blob.centre[axis] >= extent / 2 else -1.0
        blob.exit_velocity = np.zeros(2)
        blob.exit_velocity[axis] = direction * (extent + 2.5 * blob.radius) / max(frames - 1 - blob.exit_at, 1) ** 1.5
    occluder = None
    if "occlusion" in events:
        start = int(rng.integers(1, max(2, frames // 2)))
        target = blobs[int(rng.integers(count))]
        occluder = Occluder(start=start, duration=max(3, frames // 2), horizontal=bool(rng.integers(2)),
                            far_side=bool(rng.integers(2)), thickness=rng.uniform(0.2, 0.3) * min(height, width),
                            target=target.centre_at(start + max(3, frames // 2) // 2), tilt=rng.uniform(-15, 15))
    pan = rng.uniform(-0.6, 0.6, 2) * unit
    return Scene(height, width, frames, _background(rng, height, width, margin), pan, blobs, occluder,
                 boundary_void_prob=0.15, events=sorted(events))


def _pattern(blob: Blob, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    p = blob.period
    if blob.pattern == "stripes":
        return np.sin(u * (2 * math.pi / p)) > 0
    if blob.pattern == "checker":
        return (np.floor(u / p) + np.floor(v / p)) % 2 == 0
    return (np.mod(u, p) - p / 2) ** 2 + (np.mod(v, p) - p / 2) ** 2 < (0.3 * p) ** 2


def _render_blob(blob: Blob, t: int, image: np.ndarray, label: np.ndarray) -> None:
    """Paint blob ``blob`` at frame ``t`` into ``image`` / ``label`` (in place)."""
    height, width = label.shape
    centre = blob.centre_at(t)
    angle = blob.angle + blob.spin * t
    stretch = 1.0 + 0.12 * math.sin(0.21 * t + blob.phases[0])
    phases = blob.phases + blob.phase_speed * t
    split = blob.split_at is not None and t >= blob.split_at
    gap = 0.0 if not split else 1.5 + 2.2 * (t - blob.split_at)
    extent = blob.radius * (1 + blob.harmonics.sum()) * max(stretch, 1 / stretch) + gap + 2
    y0, y1 = int(max(centre[0] - extent, 0)), int(min(centre[0] + extent + 1, height))
    x0, x1 = int(max(centre[1] - extent, 0)), int(min(centre[1] + extent + 1, width))
    if y0 >= y1 or x0 >= x1:
        return
    yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    offsets = [np.zeros(2)] if not split else [blob.split_normal * gap, -blob.split_normal * gap]
    primary, secondary = blob.primary_at(t), blob.colours[1]
    for side, offset in enumerate(offsets):
        qy, qx = yy - centre[0] - offset[0], xx - centre[1] - offset[1]
        u = math.cos(angle) * qx + math.sin(angle) * qy
        v = -math.sin(angle) * qx + math.cos(angle) * qy
        rho = np.hypot(u * stretch, v / stretch)
        theta = np.arctan2(v, u)
        edge = blob.radius * (1 + sum(a * np.sin((k + 2) * theta + ph)
                                      for k, (a, ph) in enumerate(zip(blob.harmonics, phases))))
        inside = rho <= edge
        if split:
            along = qy * blob.split_normal[0] + qx * blob.split_normal[1]
            inside &= (along > 0) if side == 0 else (along <= 0)
        if not inside.any():
            continue
        shade = (0.8 + 0.2 * np.clip(1 - rho / np.maximum(edge, 1e-3), 0, 1))[..., None]
        colour = np.where(_pattern(blob, u, v)[..., None], primary, secondary) * shade
        image[y0:y1, x0:x1][inside] = np.clip(colour[inside], 0, 255).astype(np.uint8)
        label[y0:y1, x0:x1][inside] = blob.obj_id
        if blob.split_at is not None and abs(t - blob.split_at) <= 1:
            cut = np.abs(qy * blob.split_normal[0] + qx * blob.split_normal[1]) < 2.5 + gap
            label[y0:y1, x0:x1][inside & cut] = VOID


def _boundary_void(rng: np.random.Generator, label: np.ndarray, obj_id: int, radius: float) -> None:
    ys, xs = np.nonzero(label == obj_id)
    if ys.size < 50:
        return
    i = int(rng.integers(ys.size))
    r = max(2, int(radius * rng.uniform(0.12, 0.25)))
    blob = np.zeros_like(label)
    cv2.ellipse(blob, (int(xs[i]), int(ys[i])), (r, max(2, r // 2)), float(rng.uniform(0, 180)), 0, 360, 1, -1)
    label[(blob > 0) & (label == obj_id)] = VOID


def render_frame(scene: Scene, t: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Frame ``t`` as (``[H, W, 3]`` uint8 RGB, ``[H, W]`` uint8 label)."""
    h, w = scene.height, scene.width
    margin = (scene.background.shape[0] - h) // 2
    shift = np.clip(np.round(scene.pan * t), -margin, margin).astype(int)
    image = scene.background[margin + shift[0]:margin + shift[0] + h, margin + shift[1]:margin + shift[1] + w].copy()
    label = np.zeros((h, w), dtype=np.uint8)
    for blob in scene.blobs:
        _render_blob(blob, t, image, label)
    for blob in scene.blobs:
        if rng.random() < scene.boundary_void_prob:
            _boundary_void(rng, label, blob.obj_id, blob.radius)
    if scene.occluder is not None:
        covered = scene.occluder.mask(t, h, w)
        if covered.any():
            shade = np.array(OCCLUDER_RGB) + rng.normal(0, 4, (int(covered.sum()), 1))
            image[covered] = np.clip(shade, 0, 255).astype(np.uint8)
            label[covered] = 0
    return image, label
