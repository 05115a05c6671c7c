"""The registry of datasets the dataset runner (``python -m aot_plus.eval --dataset NAME``) knows.

Each entry says where the dataset's root is configured, which metric ``eval.metric=auto`` runs on its results
and which evaluator options the metric needs from the config. Adding a benchmark: a reader in ``aot_plus.data``
(registered in :func:`aot_plus.data.build.build_eval_dataset`) and one entry here.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Optional


@dataclass(frozen=True)
class Benchmark:
    """How the runner handles one dataset.

    Attributes:
        root_key: dotted config key of its root folder (``--dataset-path`` overrides it).
        auto_metric: the metric ``eval.metric=auto`` runs (``j``, ``jf``, ``lvos``), None when its labels are
            not public.
        metric_options: extra :class:`evaluation.EvaluationOptions` fields taken from the config.
    """

    root_key: str
    auto_metric: Optional[str]
    metric_options: Callable[[Any], dict[str, Any]] = lambda cfg: {}


def _lvos_options(cfg: Any) -> dict[str, Any]:
    return {"unseen_list": cfg.data.lvos.unseen_list}


BENCHMARKS: dict[str, Benchmark] = {
    "vost": Benchmark("data.vost.root", "j"),
    "davis": Benchmark("data.davis.root", "jf"),
    "youtubevos": Benchmark("data.youtubevos.root", None),
    "long_videos": Benchmark("data.long_videos_root", "jf"),
    "lvos": Benchmark("data.lvos.root", "lvos", _lvos_options),
}
#: ``eval.metric`` value -> the evaluator's metric name.
EVALUATOR_METRICS = {"j": "j", "vost": "j", "jf": "jf", "lvos": "lvos"}
