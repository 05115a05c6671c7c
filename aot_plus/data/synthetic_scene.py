"""Rendering of one synthetic VOST-style video: textured blobs that move, deform and change state (colour,
texture, shape, size, split, cut), get occluded, leave the frame for a long time and come back or leave for good,
next to unlabelled look-alike distractors, seen by a moving camera, over a muted textured background, with void
(255) where the label is ambiguous. ``aot_plus/data/README.md`` describes each kind of event.

Everything is drawn from one NumPy generator, so a scene is a pure function of its seed. Objects are
star-shaped blobs defined in their own coordinates (radius as a function of angle, animated harmonics), so the
texture moves and deforms with them and a split object's halves carry their own texture. Objects bounce inside
the frame, so long videos keep them in view unless an event takes them out.
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
ENTRY_FRAMES = 6
"""Frames a distractor takes to slide in from outside the frame."""
PATTERNS = ("stripes", "checker", "dots", "rings")


def _smooth_ramp(t: float, start: float, end: float) -> float:
    """0 before ``start``, 1 after ``end``, a smoothstep in between."""
    w = min(max((t - start) / max(end - start, 1), 0.0), 1.0)
    return w * w * (3 - 2 * w)


def _reflect(value: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Fold ``value`` into ``[low, high]`` as a ball bouncing between two walls (per axis)."""
    span = np.maximum(high - low, 1e-6)
    phase = np.mod(value - low, 2 * span)
    return low + np.where(phase > span, 2 * span - phase, phase)


@dataclass
class Blob:
    """One object's appearance, motion and changes; lengths in pixels, times in frames.

    ``obj_id`` 0 makes a distractor: drawn like an object but labelled background. Every change is optional
    (None: the blob never does it); windows are ``(start, end)`` frames over which the change blends in.
    """

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
    bounds: tuple[np.ndarray, np.ndarray] = field(
        default_factory=lambda: (np.full(2, -np.inf), np.full(2, np.inf)))
    split_at: Optional[int] = None
    split_normal: np.ndarray = field(default_factory=lambda: np.array([1.0, 0.0]))
    recolour: Optional[tuple[int, int, np.ndarray]] = None
    retexture: Optional[tuple[int, int, str, float, np.ndarray]] = None
    reshape: Optional[tuple[int, int, np.ndarray, float]] = None
    shrink: Optional[tuple[int, int, float]] = None
    cut: Optional[tuple[int, int, np.ndarray, float]] = None
    absence: Optional[tuple[int, int, int, np.ndarray]] = None
    exit_at: Optional[int] = None
    exit_velocity: np.ndarray = field(default_factory=lambda: np.zeros(2))
    appear_at: Optional[int] = None
    entry_offset: np.ndarray = field(default_factory=lambda: np.zeros(2))

    def centre_at(self, t: int) -> np.ndarray:
        """Centre (y, x) at frame t, in scene coordinates (before the camera shift)."""
        amp, freq, phase = self.wobble
        c = _reflect(self.centre + self.velocity * t, *self.bounds)
        c = c + amp * np.array([math.sin(freq * t + phase), math.cos(freq * t)])
        if self.exit_at is not None and t > self.exit_at:
            c = c + self.exit_velocity * (t - self.exit_at) ** 1.5
        if self.absence is not None:
            leave, back, ramp, away = self.absence
            out = _smooth_ramp(t, leave, leave + ramp) * (1.0 - _smooth_ramp(t, back - ramp, back))
            c = c + away * out
        if self.appear_at is not None:
            c = c + self.entry_offset * (1.0 - _smooth_ramp(t, self.appear_at, self.appear_at + ENTRY_FRAMES))
        return c

    def visible_at(self, t: int) -> bool:
        """False before a distractor's entrance."""
        return self.appear_at is None or t >= self.appear_at

    def primary_at(self, t: int) -> np.ndarray:
        """Primary colour at frame t (blends towards the new colour during a recolouring)."""
        if self.recolour is None:
            return self.colours[0]
        start, end, target = self.recolour
        w = _smooth_ramp(t, start, end)
        return (1 - w) * self.colours[0] + w * target

    def radius_at(self, t: int) -> float:
        """Radius at frame t (falls to the final scale during a shrinking)."""
        if self.shrink is None:
            return self.radius
        start, end, final = self.shrink
        return self.radius * (1.0 + (final - 1.0) * _smooth_ramp(t, start, end))

    def shape_at(self, t: int) -> tuple[np.ndarray, float]:
        """(harmonic amplitudes, elongation) at frame t (blend to the new shape during a reshaping)."""
        if self.reshape is None:
            return self.harmonics, 1.0
        start, end, harmonics, elongation = self.reshape
        w = _smooth_ramp(t, start, end)
        return (1 - w) * self.harmonics + w * harmonics, 1.0 + w * (elongation - 1.0)

    def cut_offset_at(self, t: int) -> Optional[float]:
        """Signed distance (blob frame, along the cut normal) beyond which the blob has been cut away; None
        before the cut starts."""
        if self.cut is None or t < self.cut[0]:
            return None
        start, end, _, keep = self.cut
        return self.radius * (1.6 + (keep - 1.6) * _smooth_ramp(t, start, end))


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
        reach = (aim + 0.4 * self.thickness) * math.sin(math.pi * (t - self.start + 0.5) / self.duration)
        length = 2.0 * max(height, width)
        tip_along = reach if not self.far_side else extent - reach
        tilt = math.radians(self.tilt)
        # unit vector (x, y) of the arm's long side, pointing from where it enters towards its tip
        direction = np.array([math.cos(tilt), math.sin(tilt)]) if self.horizontal else \
            np.array([-math.sin(tilt), math.cos(tilt)])
        if self.far_side:
            direction = -direction
        tip = np.array([tip_along, self.target[0]]) if self.horizontal else np.array([self.target[1], tip_along])
        centre = tip - direction * length / 2  # the tilt turns the arm about its tip, which stays on the target
        size = (length, self.thickness) if self.horizontal else (self.thickness, length)
        box = cv2.boxPoints(((float(centre[0]), float(centre[1])), size, float(self.tilt)))
        cv2.fillConvexPoly(covered, np.round(box).astype(np.int32), 1)
        return covered > 0


@dataclass
class Scene:
    """A whole video: background, camera path, blobs (objects and distractors), occluder, frame count and a
    timeline of what happens (one dict per event: kind, object id, first and last frame of the change)."""

    height: int
    width: int
    frames: int
    background: np.ndarray
    camera: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
    blobs: list[Blob]
    occluder: Optional[Occluder]
    boundary_void_prob: float
    events: list[str]
    timeline: list[dict] = field(default_factory=list)

    @property
    def margin(self) -> int:
        """Rows/columns of background beyond each side of the frame (the camera's range)."""
        return (self.background.shape[0] - self.height) // 2

    def camera_shift(self, t: int) -> np.ndarray:
        """Integer (dy, dx) of the camera at frame t: the view moves by it, so the scene moves by minus it."""
        pan, sway, freq, phase = self.camera
        shift = pan * t + sway * np.sin(freq * t + phase)
        return np.clip(np.round(shift), -self.margin, self.margin).astype(int)


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


def _make_blob(rng: np.random.Generator, obj_id: int, radius: float, centre: np.ndarray, colours, height: int,
               width: int, unit: float) -> Blob:
    speed = rng.uniform(0.3, 1.2) * unit
    direction = rng.uniform(0, 2 * math.pi)
    low = np.array([radius * 1.1, radius * 1.1])
    high = np.array([height - radius * 1.1, width - radius * 1.1])
    return Blob(
        obj_id=obj_id, radius=radius, centre=centre,
        velocity=speed * np.array([math.sin(direction), math.cos(direction)]),
        wobble=(rng.uniform(1, 6) * unit, rng.uniform(0.1, 0.35), rng.uniform(0, 2 * math.pi)),
        harmonics=rng.uniform(0.03, 0.13, 3), phases=rng.uniform(0, 2 * math.pi, 3),
        phase_speed=rng.uniform(-0.25, 0.25, 3), angle=rng.uniform(0, 2 * math.pi),
        spin=rng.uniform(-0.06, 0.06), colours=colours,
        pattern=str(rng.choice(PATTERNS)), period=rng.uniform(6, 14) * unit, bounds=(low, np.maximum(high, low)))


def _window(rng: np.random.Generator, frames: int, length: int) -> tuple[int, int]:
    """A change window of about ``length`` frames starting in the first half of the video."""
    start = int(rng.integers(1, max(2, frames // 2)))
    return start, min(start + max(2, length), frames - 1)


EXTRA_EVENT_PROB = {"split": 0.15, "recolour": 0.2, "retexture": 0.15, "reshape": 0.15, "shrink": 0.1, "cut": 0.1,
                    "occlusion": 0.2, "absence": 0.15, "exit": 0.1, "distractor": 0.2, "camera": 0.25}
"""Chance that a scene has each event besides its main one (``exit`` only with two or more objects)."""


def make_scene(rng: np.random.Generator, frames: int, height: int, width: int, primary: str,
               events: Optional[set[str]] = None) -> Scene:
    """Draw a random scene whose main event is ``primary`` (one of :data:`EXTRA_EVENT_PROB`'s keys); other
    events are added at random, unless ``events`` gives the exact set (tests)."""
    unit = min(height, width) / 240.0
    margin = int(0.25 * max(height, width)) + 4
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
        # Hues spread over the whole wheel, primary and secondary of different objects never equal: with
        # `k / count + 0.5` two objects swapped one colour pair, and a model could not tell them apart.
        colours = (_vivid_colour(rng, hue0 + k / count), _vivid_colour(rng, hue0 + (k + 0.5) / count))
        blobs.append(_make_blob(rng, k + 1, radius, centre, colours, height, width, unit))
    if events is None:
        extra = {e: p for e, p in EXTRA_EVENT_PROB.items() if e != "exit" or count > 1}
        events = {primary} | {e for e, p in extra.items() if rng.random() < p}
    timeline: list[dict] = []

    def pick(avoid: tuple[str, ...] = ()) -> Blob:
        candidates = [b for b in blobs if not any(getattr(b, a) is not None for a in avoid)] or blobs
        return candidates[int(rng.integers(len(candidates)))]

    def note(kind: str, blob: Optional[Blob], start: int, end: int) -> None:
        timeline.append({"kind": kind, "object": 0 if blob is None else blob.obj_id, "start": int(start),
                         "end": int(end)})

    late = (max(2, frames // 3), max(3, frames - 3))
    if "split" in events:
        blob = pick()
        blob.split_at = int(rng.integers(*late)) if late[1] > late[0] else late[0]
        theta = rng.uniform(0, math.pi)
        blob.split_normal = np.array([math.sin(theta), math.cos(theta)])
        note("split", blob, blob.split_at, frames - 1)
    if "recolour" in events:
        blob = pick()
        start, end = _window(rng, frames, frames // 3)
        blob.recolour = (start, end, _vivid_colour(rng, rng.uniform(0, 1)))
        note("recolour", blob, start, end)
    if "retexture" in events:
        blob = pick()
        start, end = _window(rng, frames, frames // 3)
        pattern = str(rng.choice([p for p in PATTERNS if p != blob.pattern]))
        blob.retexture = (start, end, pattern, rng.uniform(6, 14) * unit, _vivid_colour(rng, rng.uniform(0, 1)))
        note("retexture", blob, start, end)
    if "reshape" in events:
        blob = pick()
        start, end = _window(rng, frames, frames // 3)
        blob.reshape = (start, end, rng.uniform(0.15, 0.3, 3), rng.uniform(1.5, 2.0))
        note("reshape", blob, start, end)
    if "shrink" in events:
        blob = pick(("shrink",))
        start, end = _window(rng, frames, frames // 3)
        blob.shrink = (start, end, rng.uniform(0.45, 0.6))
        note("shrink", blob, start, end)
    if "cut" in events:
        blob = pick(("split_at",))
        start, end = _window(rng, frames, frames // 4)
        theta = rng.uniform(0, 2 * math.pi)
        blob.cut = (start, end, np.array([math.cos(theta), math.sin(theta)]), rng.uniform(-0.1, 0.3))
        note("cut", blob, start, end)
    if "absence" in events:
        blob = pick(("split_at", "exit_at"))
        ramp = max(2, frames // 30)
        gone = max(4, int(frames * rng.uniform(0.2, 0.35)))
        leave = int(rng.integers(max(1, frames // 8), max(2, frames - gone - 2 * ramp - 2)))
        back = leave + 2 * ramp + gone
        axis = int(rng.integers(2))
        away = np.zeros(2)
        away[axis] = (1.0 if rng.random() < 0.5 else -1.0) * (max(height, width) + 4 * blob.radius)
        blob.absence = (leave, back, ramp, away)
        note("absence", blob, leave + ramp, back - ramp - 1)
    if "exit" in events:
        blob = pick(("split_at", "absence"))
        blob.exit_at = int(rng.integers(*late)) if late[1] > late[0] else late[0]
        axis = int(rng.integers(2))
        extent = (height, width)[axis]
        direction = 1.0 if blob.centre[axis] >= extent / 2 else -1.0
        blob.exit_velocity = np.zeros(2)
        blob.exit_velocity[axis] = direction * (extent + 2.5 * blob.radius) / max(frames - 1 - blob.exit_at, 1) ** 1.5
        note("exit", blob, blob.exit_at, frames - 1)
    if "distractor" in events:
        model = pick()
        radius = model.radius * rng.uniform(0.85, 1.15)
        centre = np.array([rng.uniform(radius, height - radius), rng.uniform(radius, width - radius)])
        twin = _make_blob(rng, 0, radius, centre, model.colours, height, width, unit)
        twin.pattern, twin.period = model.pattern, model.period * rng.uniform(0.9, 1.1)
        twin.appear_at = int(rng.integers(1, max(2, frames // 2)))
        axis = int(rng.integers(2))
        twin.entry_offset = np.zeros(2)
        twin.entry_offset[axis] = (1.0 if rng.random() < 0.5 else -1.0) * (max(height, width) + 3 * radius)
        blobs.insert(0, twin)
        note("distractor", model, twin.appear_at, frames - 1)
    if "camera" in events:
        camera = (rng.uniform(-0.8, 0.8, 2) * unit, rng.uniform(0.3, 0.8, 2) * margin,
                  rng.uniform(2 * math.pi / 80, 2 * math.pi / 25, 2), rng.uniform(0, 2 * math.pi, 2))
        note("camera", None, 0, frames - 1)
    else:
        camera = (rng.uniform(-0.3, 0.3, 2) * unit, np.zeros(2), np.ones(2), np.zeros(2))
    scene = Scene(height, width, frames, _background(rng, height, width, margin), camera, blobs, None,
                  boundary_void_prob=0.15, events=sorted(events), timeline=timeline)
    if "occlusion" in events:
        start = int(rng.integers(1, max(2, frames // 2)))
        target = pick()
        duration = max(3, frames // 2)
        middle = start + duration // 2  # the arm covers where the target is (on screen) at mid-occlusion
        scene.occluder = Occluder(start=start, duration=duration, horizontal=bool(rng.integers(2)),
                                  far_side=bool(rng.integers(2)), thickness=rng.uniform(0.2, 0.3) * min(height, width),
                                  target=target.centre_at(middle) - scene.camera_shift(middle),
                                  tilt=rng.uniform(-15, 15))
        note("occlusion", target, start, start + duration - 1)
    return scene


def _pattern(pattern: str, period: float, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    p = period
    if pattern == "stripes":
        return np.sin(u * (2 * math.pi / p)) > 0
    if pattern == "checker":
        return (np.floor(u / p) + np.floor(v / p)) % 2 == 0
    if pattern == "rings":
        return np.sin(np.hypot(u, v) * (2 * math.pi / p)) > 0
    return (np.mod(u, p) - p / 2) ** 2 + (np.mod(v, p) - p / 2) ** 2 < (0.3 * p) ** 2


def _blob_colour(blob: Blob, t: int, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``[..., 3]`` colour of the blob's texture at blob coordinates (u, v) (cross-fades during a retexture)."""
    primary, secondary = blob.primary_at(t), blob.colours[1]
    colour = np.where(_pattern(blob.pattern, blob.period, u, v)[..., None], primary, secondary)
    if blob.retexture is not None and t > blob.retexture[0]:
        start, end, pattern, period, new_secondary = blob.retexture
        w = _smooth_ramp(t, start, end)
        new = np.where(_pattern(pattern, period, u, v)[..., None], primary, new_secondary)
        colour = (1 - w) * colour + w * new
    return colour


def _render_blob(blob: Blob, t: int, image: np.ndarray, label: np.ndarray, shift: np.ndarray) -> None:
    """Paint blob ``blob`` at frame ``t`` into ``image`` / ``label`` (in place), seen by a camera at ``shift``."""
    if not blob.visible_at(t):
        return
    height, width = label.shape
    centre = blob.centre_at(t) - shift
    angle = blob.angle + blob.spin * t
    stretch = 1.0 + 0.12 * math.sin(0.21 * t + blob.phases[0])
    phases = blob.phases + blob.phase_speed * t
    radius = blob.radius_at(t)
    harmonics, elongation = blob.shape_at(t)
    cut_offset = blob.cut_offset_at(t)
    split = blob.split_at is not None and t >= blob.split_at
    gap = 0.0 if not split else min(1.5 + 2.2 * (t - blob.split_at), 0.8 * blob.radius)
    extent = radius * (1 + harmonics.sum()) * max(stretch, 1 / stretch) * elongation + gap + 2
    y0, y1 = int(max(centre[0] - extent, 0)), int(min(centre[0] + extent + 1, height))
    x0, x1 = int(max(centre[1] - extent, 0)), int(min(centre[1] + extent + 1, width))
    if y0 >= y1 or x0 >= x1:
        return
    yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    offsets = [np.zeros(2)] if not split else [blob.split_normal * gap, -blob.split_normal * gap]
    for side, offset in enumerate(offsets):
        qy, qx = yy - centre[0] - offset[0], xx - centre[1] - offset[1]
        u = math.cos(angle) * qx + math.sin(angle) * qy
        v = -math.sin(angle) * qx + math.cos(angle) * qy
        rho = np.hypot(u * stretch / elongation, v / stretch)
        theta = np.arctan2(v, u)
        edge = radius * (1 + sum(a * np.sin((k + 2) * theta + ph) for k, (a, ph) in enumerate(zip(harmonics, phases))))
        inside = rho <= edge
        if cut_offset is not None:
            inside &= u * blob.cut[2][0] + v * blob.cut[2][1] <= cut_offset
        if split:
            along = qy * blob.split_normal[0] + qx * blob.split_normal[1]
            inside &= (along > 0) if side == 0 else (along <= 0)
        if not inside.any():
            continue
        shade = (0.8 + 0.2 * np.clip(1 - rho / np.maximum(edge, 1e-3), 0, 1))[..., None]
        colour = _blob_colour(blob, t, u, v) * shade
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
    margin = scene.margin
    shift = scene.camera_shift(t)
    image = scene.background[margin + shift[0]:margin + shift[0] + h, margin + shift[1]:margin + shift[1] + w].copy()
    label = np.zeros((h, w), dtype=np.uint8)
    for blob in scene.blobs:
        _render_blob(blob, t, image, label, shift)
    for blob in scene.blobs:
        if blob.obj_id and rng.random() < scene.boundary_void_prob:
            _boundary_void(rng, label, blob.obj_id, blob.radius)
    if scene.occluder is not None:
        covered = scene.occluder.mask(t, h, w)
        if covered.any():
            shade = np.array(OCCLUDER_RGB) + rng.normal(0, 4, (int(covered.sum()), 1))
            image[covered] = np.clip(shade, 0, 255).astype(np.uint8)
            label[covered] = 0
    return image, label
