"""Each kind of synthetic event: generate a scene with only that event and check what the labels show."""
from __future__ import annotations

import colorsys
import dataclasses

import cv2
import numpy as np
import pytest

from aot_plus.data.synthetic_scene import EXTRA_EVENT_PROB, Scene, make_scene, render_frame

H, W, T = 96, 128, 60
SEEDS = (0, 1, 2)


def _scene(kind: str, seed: int) -> Scene:
    return make_scene(np.random.default_rng([seed, 7]), T, H, W, kind, events={kind})


def _event(scene: Scene, kind: str) -> dict:
    (event,) = [e for e in scene.timeline if e["kind"] == kind]
    return event


def _alone(scene: Scene, obj_id: int, **changes) -> Scene:
    """The scene with only object ``obj_id`` (no occluder, no void patches), optionally with changed fields."""
    blobs = [b for b in scene.blobs if b.obj_id == obj_id]
    return dataclasses.replace(scene, blobs=blobs, occluder=None, boundary_void_prob=0.0, **changes)


def _render(scene: Scene, t: int) -> tuple[np.ndarray, np.ndarray]:
    return render_frame(scene, t, np.random.default_rng(0))


def _mask(scene: Scene, t: int, obj_id: int) -> np.ndarray:
    return _render(scene, t)[1] == obj_id


def _components(mask: np.ndarray) -> int:
    return cv2.connectedComponents(mask.astype(np.uint8))[0] - 1


def test_every_kind_is_tested() -> None:
    tested = {name[len("test_"):] for name in globals() if name.startswith("test_")}
    assert set(EXTRA_EVENT_PROB) <= tested


def test_forced_events_are_exact_and_deterministic() -> None:
    for kind in EXTRA_EVENT_PROB:
        a, b = _scene(kind, 0), _scene(kind, 0)
        assert a.events == [kind] and [e["kind"] for e in a.timeline] == [kind]
        assert np.array_equal(_render(a, T // 2)[0], _render(b, T // 2)[0])


@pytest.mark.parametrize("seed", SEEDS)
def test_split(seed: int) -> None:
    scene = _scene("split", seed)
    event = _event(scene, "split")
    alone = _alone(scene, event["object"])
    before, after = _mask(alone, event["start"] - 2, event["object"]), _mask(alone, T - 1, event["object"])
    assert _components(before) == 1
    assert _components(after) >= 2  # both halves keep the object's id
    assert set(np.unique(_render(alone, T - 1)[1])) <= {0, event["object"]}


@pytest.mark.parametrize("seed", SEEDS)
def test_recolour(seed: int) -> None:
    scene = _scene("recolour", seed)
    event = _event(scene, "recolour")
    alone = _alone(scene, event["object"])
    (image0, label0), (image1, label1) = _render(alone, event["start"]), _render(alone, event["end"])
    inside0, inside1 = label0 == event["object"], label1 == event["object"]
    colour0, colour1 = image0[inside0].mean(0), image1[inside1].mean(0)
    assert np.abs(colour0 - colour1).max() > 15  # the object changed colour ...
    assert 0.5 < inside1.sum() / inside0.sum() < 2.0  # ... not its size, and kept its label


@pytest.mark.parametrize("seed", SEEDS)
def test_retexture(seed: int) -> None:
    scene = _scene("retexture", seed)
    event = _event(scene, "retexture")
    alone = _alone(scene, event["object"])
    frozen = _alone(scene, event["object"])
    frozen.blobs = [dataclasses.replace(frozen.blobs[0], retexture=None)]
    image, label = _render(alone, event["end"])
    image_same, label_same = _render(frozen, event["end"])
    assert np.array_equal(label, label_same)  # same shape and place, same label ...
    inside = label == event["object"]
    assert np.abs(image[inside].astype(int) - image_same[inside]).mean() > 20  # ... another texture
    assert np.array_equal(_render(alone, event["start"])[0], _render(frozen, event["start"])[0])


def _elongation(mask: np.ndarray) -> float:
    ys, xs = np.nonzero(mask)
    eig = np.linalg.eigvalsh(np.cov(np.stack([ys, xs]).astype(float)))
    return float(np.sqrt(eig[1] / eig[0]))


@pytest.mark.parametrize("seed", SEEDS)
def test_reshape(seed: int) -> None:
    scene = _scene("reshape", seed)
    event = _event(scene, "reshape")
    alone = _alone(scene, event["object"])
    start, end = _mask(alone, event["start"], event["object"]), _mask(alone, event["end"], event["object"])
    assert _elongation(end) > 1.2 * _elongation(start)
    assert _components(end) == 1


@pytest.mark.parametrize("seed", SEEDS)
def test_shrink(seed: int) -> None:
    scene = _scene("shrink", seed)
    event = _event(scene, "shrink")
    alone = _alone(scene, event["object"])
    start, end = _mask(alone, event["start"], event["object"]), _mask(alone, event["end"], event["object"])
    assert 0 < end.sum() < 0.5 * start.sum()


@pytest.mark.parametrize("seed", SEEDS)
def test_cut(seed: int) -> None:
    scene = _scene("cut", seed)
    event = _event(scene, "cut")
    alone = _alone(scene, event["object"])
    start, end = _mask(alone, event["start"], event["object"]), _mask(alone, event["end"], event["object"])
    assert 0 < end.sum() < 0.8 * start.sum()
    assert _components(end) == 1  # the cut-off part is gone, the rest is one piece


@pytest.mark.parametrize("seed", SEEDS)
def test_occlusion(seed: int) -> None:
    scene = _scene("occlusion", seed)
    event = _event(scene, "occlusion")
    obj = event["object"]
    mid = (event["start"] + event["end"]) // 2
    clear = dataclasses.replace(scene, occluder=None)
    covered = scene.occluder.mask(mid, H, W)
    label = _render(scene, mid)[1]
    assert covered.any() and not label[covered].any()  # the arm is background
    assert (label == obj).sum() < 0.5 * (_render(clear, mid)[1] == obj).sum()  # and hides most of its target
    after = event["end"] + 1
    assert np.array_equal(_render(scene, after)[1] == obj, _render(clear, after)[1] == obj)


@pytest.mark.parametrize("seed", SEEDS)
def test_absence(seed: int) -> None:
    scene = _scene("absence", seed)
    event = _event(scene, "absence")
    obj = event["object"]
    assert event["end"] - event["start"] >= 0.2 * T - 1
    present = [bool(_mask(scene, t, obj).any()) for t in range(T)]
    assert not any(present[event["start"]:event["end"] + 1])  # empty during the whole absence
    assert all(present[:event["start"] - 4]) and present[-1]  # there before, back after
    back = next(t for t in range(event["end"] + 1, T) if present[t])
    assert back <= event["end"] + 1 + 2 * max(2, T // 30)


@pytest.mark.parametrize("seed", SEEDS)
def test_exit(seed: int) -> None:
    scene = make_scene(np.random.default_rng([seed, 3]), T, H, W, "exit", events={"exit"})
    event = _event(scene, "exit")
    present = [bool(_mask(scene, t, event["object"]).any()) for t in range(T)]
    assert all(present[:event["start"] + 1]) and not present[-1]


@pytest.mark.parametrize("seed", SEEDS)
def test_distractor(seed: int) -> None:
    scene = _scene("distractor", seed)
    event = _event(scene, "distractor")
    twin = next(b for b in scene.blobs if b.obj_id == 0)
    model = next(b for b in scene.blobs if b.obj_id == event["object"])
    assert twin.pattern == model.pattern and all(np.array_equal(a, b) for a, b in zip(twin.colours, model.colours))
    alone = _alone(scene, 0)
    t = min(event["start"] + 10, T - 1)
    image_with, label_with = _render(alone, t)
    image_without, _ = _render(dataclasses.replace(alone, blobs=[]), t)
    drawn = (image_with != image_without).any(axis=2)
    assert drawn.sum() > 50 and not label_with.any()  # visible, labelled background
    before = event["start"] - 1
    assert np.array_equal(_render(alone, before)[0], _render(dataclasses.replace(alone, blobs=[]), before)[0])
    labels = set(np.unique(_render(scene, t)[1]).tolist()) - {0, 255}
    assert labels <= {b.obj_id for b in scene.blobs if b.obj_id}


@pytest.mark.parametrize("seed", SEEDS)
def test_camera(seed: int) -> None:
    scene = _scene("camera", seed)
    still = dataclasses.replace(scene, camera=(np.zeros(2), np.zeros(2), np.ones(2), np.zeros(2)))
    shifts = np.array([scene.camera_shift(t) for t in range(T)])
    assert np.abs(shifts).max() >= 5 and len({tuple(s) for s in shifts}) > 5  # the camera really moves
    obj = scene.blobs[-1].obj_id
    t = int(np.argmax(np.abs(shifts).sum(1)))
    moved, fixed = _mask(_alone(scene, obj), t, obj), _mask(_alone(still, obj), t, obj)
    if moved.any() and fixed.any():
        delta = np.array(np.nonzero(moved)).mean(1) - np.array(np.nonzero(fixed)).mean(1)
        inside = np.all(np.array(np.nonzero(fixed)).min(1) > np.abs(shifts[t]) + 1)
        if inside and np.all(np.array(np.nonzero(fixed)).max(1) < np.array([H, W]) - np.abs(shifts[t]) - 1):
            assert np.allclose(delta, -shifts[t], atol=0.6)  # objects move with the background
    margin = scene.margin
    view = scene.background[margin + shifts[t][0]:margin + shifts[t][0] + H, margin + shifts[t][1]:margin + shifts[t][1] + W]
    image, label = _render(_alone(scene, obj), t)
    assert np.array_equal(image[label == 0], view[label == 0])


@pytest.mark.parametrize("seed", range(12))
def test_objects_never_share_a_hue(seed: int) -> None:
    """Labelled objects of one video differ in the hues of both colours (two objects once swapped one hue pair)."""
    scene = make_scene(np.random.default_rng([seed, 11]), T, H, W, "recolour", events=set())
    objects = [blob for blob in scene.blobs if blob.obj_id > 0]
    hues = [[colorsys.rgb_to_hsv(*(np.asarray(c) / 255.0))[0] for c in blob.colours] for blob in objects]
    for i in range(len(objects)):
        for j in range(i + 1, len(objects)):
            for a in hues[i]:
                for b in hues[j]:
                    distance = min(abs(a - b), 1 - abs(a - b))
                    assert distance > 0.1, (seed, objects[i].obj_id, objects[j].obj_id, a, b)
