"""Config -> datasets: the training mixture of a stage and the evaluation dataset of a split."""
from __future__ import annotations

from typing import Callable

from aot_plus.data.config import DataConfig, VOSSourceConfig
from aot_plus.data.davis import DAVISEval, davis_train_sequences
from aot_plus.data.errors import DatasetError
from aot_plus.data.long_videos import LongVideosEval
from aot_plus.data.lvos import LVOSEval
from aot_plus.data.sequence import EvalDataset
from aot_plus.data.static import StaticImageDataset, static_pairs
from aot_plus.data.train_dataset import TrainDataset, VOSClipDataset
from aot_plus.data.vost import VOSTEval, vost_train_sequences
from aot_plus.data.youtubevos import YouTubeVOSEval, youtubevos_train_sequences

STREAMS = {"vost": 1, "davis2017": 2, "youtubevos": 3, "static": 4}
"""Fixed random-stream number per training source (see :func:`aot_plus.data.seeding.sample_rng`)."""


def build_train_dataset(cfg: DataConfig, seed: int = 0) -> TrainDataset:
    """The concatenated training sources named by ``cfg.train_datasets``.

    Args:
        cfg: the data section.
        seed: the run's base seed; items are reproducible for a (seed, epoch, index).

    Raises:
        DatasetError: a source is missing or malformed (the message names the file or folder).
        ValueError: ``cfg.augment.crop_size`` is unset (resolve it with :meth:`DataConfig.for_model`).
    """
    if cfg.augment.crop_size is None:
        raise ValueError("data.augment.crop_size is unset: give a size or resolve it from the model with "
                         "DataConfig.for_model(align_corners)")
    videos: dict[str, tuple[Callable[..., list], VOSSourceConfig]] = {
        "vost": (vost_train_sequences, cfg.vost),
        "davis2017": (davis_train_sequences, cfg.davis),
        "youtubevos": (youtubevos_train_sequences, cfg.youtubevos),
    }
    sources: list = []
    for source in cfg.train_datasets:
        if source == "static":
            sources.append(StaticImageDataset(static_pairs(cfg.static.root, cfg.static.subsets), cfg.static,
                                              cfg.clip, cfg.augment.crop_size, cfg.augment.pad_value, cfg.mean,
                                              cfg.std, seed=seed, stream=STREAMS[source]))
        else:
            reader, source_cfg = videos[source]
            sources.append(VOSClipDataset(reader(source_cfg), source_cfg, cfg.clip, cfg.augment, cfg.mean,
                                          cfg.std, seed=seed, stream=STREAMS[source], name=source))
    return TrainDataset(sources)


EVAL_DATASETS = ("vost", "davis2017", "davis2016", "youtubevos", "youtubevos2018", "youtubevos2019",
                 "long_videos", "lvos")
YOUTUBEVOS_YEARS = {"youtubevos": None, "youtubevos2018": 2018, "youtubevos2019": 2019}
"""YouTube-VOS dataset names and their year (None: ``data.youtubevos.year``)."""


def build_eval_dataset(name: str, cfg: DataConfig, split: str = "val", all_frames: bool = False) -> EvalDataset:
    """The evaluation dataset ``name`` (one of :data:`EVAL_DATASETS`; ``davis`` means ``davis2017``).

    Args:
        name: dataset name.
        cfg: the data section (roots and per-dataset settings).
        split: split name (``val``; YouTube-VOS and LVOS also ``valid``, DAVIS ``test`` = test-dev).
        all_frames: YouTube-VOS only: every 30 fps frame (the reference's ``val_all_frames``).

    Raises:
        DatasetError: unknown name, or a missing root / list.
    """
    name = "davis2017" if name == "davis" else name
    if name == "vost":
        return VOSTEval(cfg.vost.root, split, frames_dir=cfg.vost.eval_frames_dir)
    if name in ("davis2017", "davis2016"):
        return DAVISEval(cfg.davis.root, split, year=cfg.davis.year, resolution=cfg.davis.resolution,
                         single_object=name == "davis2016")
    if name in YOUTUBEVOS_YEARS:
        year = YOUTUBEVOS_YEARS[name] or cfg.youtubevos.year
        return YouTubeVOSEval(cfg.youtubevos.root, year, split, all_frames=all_frames)
    if name == "long_videos":
        return LongVideosEval(cfg.long_videos_root, split, output_height=cfg.long_videos_output_height)
    if name == "lvos":
        return LVOSEval(cfg.lvos.root, split)
    raise DatasetError(f"unknown evaluation dataset {name!r}; expected one of {list(EVAL_DATASETS)} or 'davis'")
