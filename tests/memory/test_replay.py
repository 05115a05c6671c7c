"""Replay every recorded policy call of the RMem and EMFS parity cases through our bank and policies."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from aot_plus.memory import (EMFSConfig, Evidence, MemoryBank, MemoryConfig, RMemConfig, build_policy,
                             foreground_probability, relevance)

# Tolerances of shared/parity/README.md ("Tolerances").
ATOL = {"relevance_moving_mean": 1e-4, "ucb_bonus": 1e-4, "redundancy_rounded": 1.5e-4, "redundancy_penalty": 1e-3}
FINAL_SCORE_ATOL = {"rmem": 1e-4, "emfs": 1e-3}
FAMILY = {"r50_aotl": "aot", "r50_deaotl": "deaot"}
POLICY_CONFIG = {"rmem": RMemConfig, "emfs": EMFSConfig}


def memory_config(case: dict) -> MemoryConfig:
    """The memory config reproducing a case: the reference values of the case's model family."""
    policy = POLICY_CONFIG[case["policy"]].for_family(FAMILY[case["model"]])
    return MemoryConfig(reference_frames=case["former"], max_recent_frames=case["latter"],
                        long_term_gap=case["gap"], policy=policy)


def frame_entry(frame: int) -> list[list[torch.Tensor]]:
    """A tiny two-layer memory entry that remembers its frame index."""
    value = torch.full((2, 1, 3), float(frame))
    return [[value, value + 0.5], [value * 2, value * 3]]


def test_policy_constants_match_case(relevance_case):
    case = relevance_case["case"]
    constants = case["policy_constants"]
    cfg = memory_config(case).policy
    assert 1 - cfg.moving_mean_factor == pytest.approx(constants["moving_mean_old"])
    assert cfg.moving_mean_factor == constants["moving_mean_new"]
    assert constants["protected_prefix"] == 1 and cfg.protected_positions == "first"
    if case["policy"] == "rmem":
        assert (cfg.ucb_scale, cfg.ucb_offset) == (constants["ucb_mul"], constants["ucb_add"])
    else:
        assert (cfg.penalty_slope, cfg.penalty_threshold, cfg.relevance_weight, cfg.redundancy_decimals) == (
            constants["sigmoid_k"], constants["sigmoid_t"], constants["relevance_weight"],
            constants["redundancy_decimals"])


def test_foreground_and_relevance_from_recorded_inputs(relevance_case):
    case, inputs = relevance_case["case"], relevance_case["inputs"]
    grid = tuple(case["encoder_size_hw"])
    for record in case["evictions"]:
        r = record["round"]
        logits = torch.from_numpy(relevance_case["lowres_logits"][record["frame"] - 1])[None]
        foreground = foreground_probability(logits, grid)
        np.testing.assert_allclose(foreground.numpy(), inputs[f"round{r}/foreground"], atol=1e-6)
        mass = torch.from_numpy(inputs[f"round{r}/attention_mass"])
        np.testing.assert_allclose(relevance(mass, foreground).numpy(), record["relevance_raw_float64"], atol=1e-6)


def test_replay_every_eviction_record(relevance_case):
    case, inputs = relevance_case["case"], relevance_case["inputs"]
    cfg = memory_config(case)
    policy = build_policy(cfg)
    bank = MemoryBank()
    bank.append(0, frame_entry(0))
    scored_calls = 0
    for record in case["evictions"]:
        r, frame = record["round"], record["frame"]
        assert list(bank.frame_ids) == record["candidates_scored"]
        bank.append(frame, frame_entry(frame))
        assert list(bank.frame_ids) == record["bank_after_insert"]
        assert policy.needs_evidence(len(bank)) == record["scored"], f"round {r}: scoring schedule"
        evidence = Evidence(attention_mass=torch.from_numpy(inputs[f"round{r}/attention_mass"]),
                            foreground=torch.from_numpy(inputs[f"round{r}/foreground"]),
                            key_similarity=(torch.from_numpy(inputs[f"round{r}/cos_matrix"]).float()
                                            if f"round{r}/cos_matrix" in inputs else None))
        before = policy.last_scores
        position = policy.after_insert(bank.frame_ids, evidence)
        if record["scored"]:
            scored_calls += 1
            scores = policy.last_scores
            assert scores is not before and scores.candidates == tuple(record["candidates_scored"])
            np.testing.assert_allclose(scores.moving_mean.numpy(), record["relevance_moving_mean"],
                                       atol=ATOL["relevance_moving_mean"])
            if case["policy"] == "rmem":
                assert scores.terms["ucb_counts"].tolist() == record["ucb_counts"]
                np.testing.assert_allclose(scores.terms["ucb_bonus"].numpy(), record["ucb_bonus"],
                                           atol=ATOL["ucb_bonus"])
            else:
                np.testing.assert_allclose(scores.terms["redundancy"].numpy(), record["redundancy_rounded"],
                                           atol=ATOL["redundancy_rounded"])
                np.testing.assert_allclose(scores.terms["penalty"].numpy(), record["redundancy_penalty"],
                                           atol=ATOL["redundancy_penalty"])
            np.testing.assert_allclose(scores.score.numpy(), record["final_score"],
                                       atol=FINAL_SCORE_ATOL[case["policy"]])
        else:
            assert policy.last_scores is before
        if record["evicted"]:
            assert position == record["drop_position"]
            assert bank.remove(position) == record["evicted"][0]
        else:
            assert position is None
        assert list(bank.frame_ids) == record["bank_after"], f"round {r}: bank after the call"
        moving_after = {int(k): v for k, v in record["moving_mean_after"].items()}
        assert policy.moving_mean.keys() == moving_after.keys()
        np.testing.assert_allclose([policy.moving_mean[k] for k in moving_after], list(moving_after.values()),
                                   atol=ATOL["relevance_moving_mean"])
        if case["policy"] == "rmem":
            assert policy.counts == {int(k): v for k, v in record["counts_after"].items()}
    assert scored_calls == sum(record["scored"] for record in case["evictions"]) > 0
    assert [list(bank.frame_ids)] == case["kept_long_term_frames"][-1:]
    first, last = bank.layer(1)
    assert first[:, 0, 0, 0].tolist() == [2.0 * f for f in bank.frame_ids]
    assert last[:, 0, 0, 0].tolist() == [3.0 * f for f in bank.frame_ids]
