"""Training datasets on the synthetic VOST layout: tensors, reproducibility by seed / epoch / worker, static."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from aot_plus.config import from_dict
from aot_plus.data import DataConfig, DatasetError, build_train_dataset, worker_init_fn
from aot_plus.data.static import StaticImageDataset, static_pairs


def small_config(root: Path, **extra) -> DataConfig:
    data = {"vost": {"root": str(root)}, "clip": {"seq_len": 4},
            "augment": {"crop_size": [64, 80], "short_edge": 96}}
    data.update(extra)
    return from_dict(DataConfig, data)


def test_sample_tensors(synthetic_root: Path) -> None:
    dataset = build_train_dataset(small_config(synthetic_root), seed=0)
    assert len(dataset) == 4
    for index in range(len(dataset)):
        sample = dataset[index]
        assert sample["images"].shape == (4, 3, 64, 80) and sample["images"].dtype == torch.float32
        assert sample["labels"].shape == (4, 1, 64, 80) and sample["labels"].dtype == torch.int64
        obj_num = int(sample["obj_num"])
        values = set(torch.unique(sample["labels"]).tolist())
        assert 1 <= obj_num <= 10 and values <= set(range(obj_num + 1)) | {255}
        assert set(torch.unique(sample["labels"][0]).tolist()) - {0, 255} == set(range(1, obj_num + 1))
        assert isinstance(sample["seq_name"], str) and sample["frame_num"] == 6
        # ImageNet-normalised pixels lie in [-2.2, 2.7]; the bicubic rescale is not clipped (as in the reference), so
        # the sharp, saturated edges of the synthetic objects overshoot a little
        assert -4.0 < float(sample["images"].min()) and float(sample["images"].max()) < 4.0


def test_reproducible_by_seed_epoch_and_workers(synthetic_root: Path) -> None:
    cfg = small_config(synthetic_root, clip={"seq_len": 4, "merge_prob": 0.5})
    first = build_train_dataset(cfg, seed=5)
    again = build_train_dataset(cfg, seed=5)
    other = build_train_dataset(cfg, seed=6)
    for index in range(len(first)):
        a, b = first[index], again[index]
        assert torch.equal(a["images"], b["images"]) and torch.equal(a["labels"], b["labels"])
    assert any(not torch.equal(first[i]["images"], other[i]["images"]) for i in range(len(first)))
    before = [first[i]["images"] for i in range(len(first))]
    first.set_epoch(1)
    assert any(not torch.equal(first[i]["images"], before[i]) for i in range(len(first)))
    loader = DataLoader(first, batch_size=2, num_workers=2, worker_init_fn=worker_init_fn)
    batches = list(loader)
    direct = torch.stack([first[i]["images"] for i in range(len(first))])
    assert torch.equal(torch.cat([b["images"] for b in batches]), direct)


def test_repeat_and_sources(synthetic_root: Path) -> None:
    cfg = small_config(synthetic_root, vost={"root": str(synthetic_root), "repeat": 3})
    assert len(build_train_dataset(cfg)) == 12
    with pytest.raises(DatasetError, match="VOST dataset folder .*nowhere does not exist"):
        build_train_dataset(small_config(synthetic_root / "nowhere"))


def test_static_images(tmp_path: Path, layout) -> None:
    root = tmp_path / "Static"
    for i in range(3):
        mask = np.zeros((50, 70), np.uint8)
        mask[10:40, 10 + 5 * i:50 + 5 * i] = 255
        layout.write_jpg(root / "JPEGImages" / "ECSSD" / f"{i:04d}.jpg", layout.frame_image(mask))
        layout.write_png(root / "Annotations" / "ECSSD" / f"{i:04d}.png", mask)
    layout.write_jpg(root / "JPEGImages" / "COCO" / "x.jpg", np.zeros((10, 10, 3), np.uint8))
    pairs = static_pairs(root, ("COCO", "ECSSD", "MSRA10K"))
    assert [p[0].name for p in pairs] == ["0000.jpg", "0001.jpg", "0002.jpg"]
    cfg = from_dict(DataConfig, {"train_datasets": ["static"], "static": {"root": str(root)},
                                 "clip": {"seq_len": 3}, "augment": {"crop_size": [48, 48]}})
    dataset = build_train_dataset(cfg, seed=1)
    sample = dataset[0]
    assert sample["images"].shape == (3, 3, 48, 48) and int(sample["obj_num"]) in (1, 2)
    assert set(torch.unique(sample["labels"]).tolist()) <= {0, 1, 2}
    assert torch.equal(dataset[0]["images"], sample["images"])
    no_void = StaticImageDataset(pairs, from_dict(type(cfg.static), {"void_is_object": False}), cfg.clip,
                                 (48, 48), (124.0, 116.0, 104.0), cfg.mean, cfg.std)
    assert int(no_void[0]["obj_num"]) == 0 and int(no_void[0]["labels"].max()) == 0
    with pytest.raises(DatasetError, match="none of"):
        static_pairs(root, ("COCO",))


def test_ten_fps_frames_follow_the_valid_frame_rule(synthetic_root: Path) -> None:
    cfg = small_config(synthetic_root, vost={"root": str(synthetic_root), "train_frames_dir": "JPEGImages_10fps"},
                       clip={"seq_len": 5, "merge_prob": 0.0, "reverse_prob": 0.0})
    dataset = build_train_dataset(cfg, seed=2)
    void_frames = 0
    for index in range(len(dataset)):
        labels = dataset[index]["labels"]
        assert dataset[index]["frame_num"] == 12
        full_void = [bool((labels[t] == 255).all()) for t in range(5)]
        assert not full_void[0] and not full_void[-1]
        void_frames += sum(full_void)
    assert void_frames > 0
