"""Run a reference parity fixture: ``python -m aot_plus.parity CASE_DIR``.

A case folder (format: ``parity/README.md``) holds ``case.json`` (model, policy, memory bounds, gap, seed, ...) and
``case.npz`` (frames, first label, the reference's probabilities and fed-back labels). The network is built from
our configs (``configs/models/<aot|rmem>_<model>.yaml`` adjusted by the case's recorded ``MODEL_*`` values), filled
with the fixture's deterministic weight rule and driven through :class:`~aot_plus.engine.VideoSession` with teacher
forcing: after propagating frame ``t`` the memory is updated with the reference's own label ``pred_labels[t-1]``.
Every frame's probabilities must be within ``atol`` of the reference's and every kept-frame list identical.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Sequence, TextIO

import numpy as np
import torch

from aot_plus.engine import SessionConfig, VideoSession
from aot_plus.memory import MemoryConfig, PolicyConfig
from aot_plus.models.build import build_model
from aot_plus.models.config import ModelConfig, TemporalPEConfig
from aot_plus.models.keys import format_listing, load_model_config
from aot_plus.models.vos import VOSModel

MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)
#: Pixels whose stored top-2 probability margin is below this are not counted as label disagreements.
LABEL_MARGIN = 1e-4

#: case.json ``policy_constants`` name -> our policy config field.
_POLICY_CONSTANTS = {"moving_mean_new": "moving_mean_factor", "ucb_mul": "ucb_scale", "ucb_add": "ucb_offset",
                     "relevance_weight": "relevance_weight", "sigmoid_k": "penalty_slope",
                     "sigmoid_t": "penalty_threshold", "redundancy_decimals": "redundancy_decimals"}
#: case.json ``config`` (reference ``MODEL_*``) name -> our model config field.
_MODEL_KEYS = {"MODEL_VOS": "family", "MODEL_ENCODER": "encoder", "MODEL_ENCODER_DIM": "encoder_dims",
               "MODEL_ENCODER_EMBEDDING_DIM": "embed_dim", "MODEL_LSTT_NUM": "num_layers",
               "MODEL_SELF_HEADS": "self_heads", "MODEL_ATT_HEADS": "att_heads",
               "MODEL_DECODER_INTERMEDIATE_LSTT": "decoder_intermediate", "MODEL_MAX_OBJ_NUM": "max_obj_num",
               "MODEL_ALIGN_CORNERS": "align_corners", "MODEL_IGNORE_TOKEN": "ignore_token"}


class CaseError(ValueError):
    """A case folder that cannot be run (missing file or key, mixed generations, unknown model)."""


@dataclass(frozen=True)
class FrameComparison:
    """One propagated frame: probability difference, label disagreements and kept frames."""

    frame: int
    max_diff: float
    label_mismatches: int
    kept: tuple[int, ...]
    kept_reference: tuple[int, ...]


@dataclass(frozen=True)
class ParityReport:
    """The outcome of one case."""

    name: str
    description: str
    atol: float
    frames: list[FrameComparison]
    reference_kept_ok: bool

    @property
    def max_diff(self) -> float:
        """Largest probability difference over all frames."""
        return max((f.max_diff for f in self.frames), default=0.0)

    @property
    def failures(self) -> list[str]:
        """Why the case fails (empty when it passes)."""
        reasons = [f"frame {f.frame}: max |dp| {f.max_diff:.2e} > atol {self.atol:g}"
                   for f in self.frames if not f.max_diff <= self.atol]
        reasons += [f"frame {f.frame}: kept {list(f.kept)} != reference {list(f.kept_reference)}"
                    for f in self.frames if f.kept != f.kept_reference]
        if not self.reference_kept_ok:
            reasons.insert(0, "frame 0: kept frames differ from the reference")
        return reasons


def fill_value(key: str, shape: Sequence[int], seed: int, scale_rule: Sequence[Sequence[Any]]) -> np.ndarray:
    """The fixtures' deterministic value of one state_dict entry (``parity/README.md``, weight fill rule)."""
    rs = np.random.RandomState((zlib.crc32(key.encode()) + seed) % 2 ** 32)
    n = int(np.prod(shape)) if len(shape) else 1
    if key.endswith("num_batches_tracked"):
        return np.zeros(shape, np.int64)
    if key.endswith("running_var"):
        values = 0.5 + rs.rand(n)
    elif key.endswith("running_mean"):
        values = 0.1 * rs.randn(n)
    elif len(shape) <= 1 and key.endswith("weight"):
        values = 1.0 + 0.1 * rs.randn(n)
    elif len(shape) <= 1:
        values = 0.02 * rs.randn(n)
    else:
        values = rs.randn(n) / np.sqrt(np.prod(shape[1:]))
    for suffix, factor in scale_rule:
        if key.endswith(suffix):
            values = values * factor
    return values.reshape(shape).astype(np.float32)


def fill_weights(model: torch.nn.Module, seed: int, scale_rule: Sequence[Sequence[Any]]) -> None:
    """Replace every state_dict entry of ``model`` by :func:`fill_value` (strict load)."""
    state = {key: torch.from_numpy(fill_value(key, tuple(value.shape), seed, scale_rule)).to(value.dtype)
             for key, value in model.state_dict().items()}
    model.load_state_dict(state, strict=True)


def _require(case: dict[str, Any], key: str, path: Path) -> Any:
    if key not in case:
        raise CaseError(f"{path}: missing key {key!r}")
    return case[key]


def load_case(case_dir: Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """``case.json`` and the arrays of ``case.npz``; checks that both come from one fixture generation."""
    json_path, npz_path = case_dir / "case.json", case_dir / "case.npz"
    for path in (json_path, npz_path):
        if not path.is_file():
            raise CaseError(f"{path} does not exist (a case folder holds case.json and case.npz)")
    case = json.loads(json_path.read_text())
    with np.load(npz_path) as data:
        arrays = {key: data[key] for key in data.files}
    for key in ("frames", "first_label", "probs", "pred_labels"):
        if key not in arrays:
            raise CaseError(f"{npz_path}: missing array {key!r}")
    if "fixture_id" in arrays and "fixture_id" in case and str(arrays["fixture_id"]) != str(case["fixture_id"]):
        raise CaseError(f"{case_dir}: case.json (fixture_id {case['fixture_id']}) and case.npz (fixture_id "
                        f"{arrays['fixture_id']}) come from different generations")
    return case, arrays


def case_model_config(case: dict[str, Any], path: Path) -> ModelConfig:
    """Our model config for the case: the listing's config with the case's recorded reference values."""
    flavor, model = _require(case, "flavor", path), _require(case, "model", path)
    name = f"{'aot' if flavor == 'aot' else 'rmem'}_{model}"
    cfg = load_model_config(name)
    reference = case.get("config", {})
    changes = {field: reference[key] for key, field in _MODEL_KEYS.items() if key in reference}
    if "encoder_dims" in changes:
        changes["encoder_dims"] = tuple(changes["encoder_dims"])
    if cfg.aot_block == "vost" and "MODEL_LINEAR_Q" in reference:
        changes["linear_q"] = bool(reference["MODEL_LINEAR_Q"])
    slots = int(case.get("tpe_slots") or (4 if reference.get("TEMPORAL_POSITIONAL_EMBEDDING_SLOT_4", True) else 2))
    enabled = bool(case.get("tpe", reference.get("USE_TEMPORAL_POSITIONAL_EMBEDDING", cfg.temporal_pe.enabled)))
    changes["temporal_pe"] = TemporalPEConfig(enabled=enabled, slots=slots if enabled else cfg.temporal_pe.slots)
    return dataclasses.replace(cfg, **changes)


def case_memory_config(case: dict[str, Any], family: str, path: Path) -> MemoryConfig:
    """The memory config of the case: policy with the reference constants of the model family's code path."""
    name = _require(case, "policy", path)
    variants = PolicyConfig.variants()
    if name not in variants:
        raise CaseError(f"{path}: unknown policy {name!r}; expected one of {sorted(variants)}")
    policy = variants[name].for_family(family)
    fields = {f.name for f in dataclasses.fields(policy)}
    constants = {ours: case.get("policy_constants", {})[theirs] for theirs, ours in _POLICY_CONSTANTS.items()
                 if theirs in case.get("policy_constants", {}) and ours in fields}
    if "redundancy_decimals" in constants:
        constants["redundancy_decimals"] = int(constants["redundancy_decimals"])
    policy = dataclasses.replace(policy, **constants)
    gap = int(case.get("gap", case.get("long_term_gap")))
    former = case.get("former", case.get("former_mem_len")) or 1
    latter = case.get("latter", case.get("latter_mem_len"))
    return MemoryConfig(reference_frames=int(former), max_recent_frames=None if latter is None else int(latter),
                        long_term_gap=gap, policy=policy)


def _check_listing(model: VOSModel, listing: Path) -> None:
    ours = [line.rsplit("\t", 1)[0] for line in format_listing(model.state_dict())]
    theirs = [line.rsplit("\t", 1)[0] for line in listing.read_text().splitlines() if line.strip()]
    if sorted(ours) != sorted(theirs):
        missing, extra = sorted(set(theirs) - set(ours)), sorted(set(ours) - set(theirs))
        raise CaseError(f"{listing}: our model's state_dict differs from the case's listing; missing "
                        f"{missing[:5]}, unexpected {extra[:5]}")


def normalize_frame(frame: np.ndarray, device: torch.device | str = "cpu") -> torch.Tensor:
    """An ``[H, W, 3]`` uint8 RGB frame as the normalised float32 ``[1, 3, H, W]`` input of the protocol."""
    x = torch.from_numpy(np.ascontiguousarray(frame)).to(device).permute(2, 0, 1)[None].float() / 255.0
    mean = torch.tensor(MEAN, device=device).view(1, 3, 1, 1)
    std = torch.tensor(STD, device=device).view(1, 3, 1, 1)
    return (x - mean) / std


def run_case(case_dir: Path | str, atol: float = 2e-3, device: str = "cpu",
             storage: str = "growing") -> ParityReport:
    """Run one case folder and compare every frame with the reference (``storage``: ``memory.storage``)."""
    case_dir = Path(case_dir)
    case, arrays = load_case(case_dir)
    json_path = case_dir / "case.json"
    cfg = case_model_config(case, json_path)
    model = build_model(cfg)
    if (case_dir / "state_dict_keys.txt").is_file():
        _check_listing(model, case_dir / "state_dict_keys.txt")
    fill_weights(model, int(_require(case, "seed", json_path)), case.get("scale_rule", []))
    dev = torch.device(device)
    model.to(dev).eval()
    memory = dataclasses.replace(case_memory_config(case, cfg.family, json_path), storage=storage)
    session = VideoSession(model, memory, SessionConfig(mask_unused_ids=bool(case.get("identity_channels_masked"))))
    frames, probs_ref, labels_ref = arrays["frames"], arrays["probs"], arrays["pred_labels"]
    kept_ref = [tuple(k) for k in _require(case, "kept_long_term_frames", json_path)]
    objects = int(case.get("objects", int(arrays["first_label"].max())))
    height, width = arrays["first_label"].shape
    first_label = torch.from_numpy(arrays["first_label"].astype(np.int64)).to(dev)
    session.add_reference(normalize_frame(frames[0], dev), first_label, 0, obj_ids=range(1, objects + 1))
    reference_ok = session.kept_frames == kept_ref[0]
    results = []
    for t in range(1, len(frames)):
        probs = session.step(normalize_frame(frames[t], dev), output_size=(height, width))[0].float().cpu()
        ref = torch.from_numpy(probs_ref[t - 1].astype(np.float32))
        diff = float((probs - ref).abs().max()) if probs.shape == ref.shape else float("inf")
        top2 = ref.topk(2, dim=0).values
        decided = (top2[0] - top2[1]) >= LABEL_MARGIN
        labels = torch.from_numpy(labels_ref[t - 1].astype(np.int64))
        mismatches = int(((probs.argmax(dim=0) != labels) & decided).sum())
        session.update(labels.to(dev))
        results.append(FrameComparison(t, diff, mismatches, session.kept_frames, kept_ref[t]))
    former, latter = memory.reference_frames, memory.max_recent_frames
    description = (f"model {cfg.family}/{case['model']} ({case['flavor']}), policy {case['policy']}, {len(frames)} "
                   f"frames {height}x{width}, {objects} objects, gap {session.gap}, memory "
                   f"{former}+{'unbounded' if latter is None else latter}, TPE "
                   f"{cfg.temporal_pe.slots if cfg.temporal_pe.enabled else 'off'}")
    return ParityReport(case.get("name", case_dir.name), description, atol, results, reference_ok)


def write_report(report: ParityReport, out: TextIO) -> None:
    """The per-frame table and the final ``PARITY OK`` / ``PARITY FAIL: ...`` line."""
    out.write(f"case {report.name}: {report.description}\n")
    out.write(f"{'frame':>5}  {'max|dp|':>9}  {'labels':>6}  {'kept (ours)':<28}  {'kept (reference)':<28}\n")
    for f in report.frames:
        flag = "ok" if f.max_diff <= report.atol and f.kept == f.kept_reference else "FAIL"
        out.write(f"{f.frame:>5}  {f.max_diff:>9.2e}  {f.label_mismatches:>6}  {str(list(f.kept)):<28}  "
                  f"{str(list(f.kept_reference)):<28}  {flag}\n")
    failures = report.failures
    if failures:
        out.write(f"PARITY FAIL: {len(failures)} problem(s); " + "; ".join(failures[:5]) + "\n")
    else:
        out.write(f"PARITY OK: {len(report.frames)} frames, max |dp| {report.max_diff:.2e} (atol {report.atol:g}), "
                  f"kept frames identical\n")


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Command-line entry point; exit status 0 only when the case passes."""
    parser = argparse.ArgumentParser(description="Run a reference parity case folder against aot_plus.")
    parser.add_argument("case_dir", type=Path, help="folder with case.json and case.npz")
    parser.add_argument("--atol", type=float, default=2e-3, help="tolerance on probabilities (default 2e-3)")
    parser.add_argument("--device", default="cpu", help="torch device (default cpu)")
    parser.add_argument("--storage", choices=("growing", "static"), default="growing",
                        help="memory.storage of the run (default growing; static needs a bounded policy)")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch CPU threads (default 1, as the fixtures were generated; 0 keeps torch's default)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.device.startswith("cuda"):
        # TF32 convolutions/matmuls would move the probabilities by about 1e-3; the fixtures are fp32.
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cuda.matmul.allow_tf32 = False
    try:
        report = run_case(args.case_dir, args.atol, args.device, args.storage)
    except (CaseError, ValueError, KeyError, OSError) as err:
        sys.stdout.write(f"PARITY FAIL: {err}\n")
        return 1
    write_report(report, sys.stdout)
    return 0 if not report.failures else 1


if __name__ == "__main__":
    from aot_plus.interrupts import run_cli
    sys.exit(run_cli(main))
