"""Datasets for training and evaluation: readers, the VOST clip sampler, augmentation, a synthetic generator.

Evaluation: :func:`build_eval_dataset` (or :class:`VOSTEval`, :class:`DAVISEval`, :class:`YouTubeVOSEval`,
:class:`LongVideosEval`, :class:`LVOSEval`) yields :class:`EvalSequence` objects; frames are prepared with
:func:`eval_size` / :func:`prepare_frame` / :func:`test_time_views`.
Training: :func:`build_train_dataset` returns a dataset of dicts (``images`` [T, 3, H, W], ``labels``
[T, 1, H, W], ``obj_num``...); use :func:`worker_init_fn` in the DataLoader and ``set_epoch`` every epoch.
"""
from aot_plus.data.build import EVAL_DATASETS, build_eval_dataset, build_train_dataset
from aot_plus.data.config import DataConfig
from aot_plus.data.davis import DAVISEval
from aot_plus.data.errors import DatasetError
from aot_plus.data.eval_transforms import FrameView, eval_size, prepare_frame, prepare_label, test_time_views
from aot_plus.data.long_videos import LongVideosEval
from aot_plus.data.lvos import LVOSEval
from aot_plus.data.seeding import sample_rng, worker_init_fn
from aot_plus.data.sequence import EvalDataset, EvalSequence
from aot_plus.data.train_dataset import TrainDataset, VOSClipDataset
from aot_plus.data.vost import VOSTEval
from aot_plus.data.youtubevos import YouTubeVOSEval

__all__ = ["EVAL_DATASETS", "DAVISEval", "DataConfig", "DatasetError", "EvalDataset", "EvalSequence", "FrameView",
           "LVOSEval", "LongVideosEval", "TrainDataset", "VOSClipDataset", "VOSTEval", "YouTubeVOSEval",
           "build_eval_dataset", "build_train_dataset", "eval_size", "prepare_frame", "prepare_label", "sample_rng",
           "test_time_views", "worker_init_fn"]
