"""Initialisation from released checkpoints: model zoo -> VOST layout (non-strict), full, encoder only."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from aot_plus.config import load_config
from aot_plus.models import build_model
from aot_plus.train.config import TrainConfig
from aot_plus.train.setup import StartupError, initialise_weights

ROOT = Path(__file__).resolve().parents[2]
LISTINGS = ROOT / "tests" / "fixtures" / "models" / "state_dict_keys"


def _listing(name: str) -> dict[str, tuple[int, ...]]:
    shapes = {}
    for line in (LISTINGS / f"{name}.txt").read_text().splitlines():
        key, shape, _ = line.split("\t")
        shapes[key] = tuple(int(x) for x in shape.strip("()").split(",") if x.strip())
    return shapes


def _model(name: str) -> torch.nn.Module:
    return build_model(load_config(ROOT / "configs" / "models" / f"{name}.yaml").model)


@pytest.fixture(scope="module")
def zoo_file(tmp_path_factory) -> Path:
    """A filled-weights R50-AOT-L model-zoo checkpoint (every tensor holds its own index + 1)."""
    state = _model("aot_r50_aotl").state_dict()
    filled = {k: torch.full_like(v, float(i + 1)) for i, (k, v) in enumerate(state.items())}
    path = tmp_path_factory.mktemp("zoo") / "R50_AOTL_PRE_YTB_DAV.pth"
    torch.save({"state_dict": filled}, path)
    return path


def test_zoo_into_vost_layout_reports_exactly_the_expected_keys(zoo_file):
    zoo, vost = _listing("aot_r50_aotl"), _listing("rmem_r50_aotl")
    shared = zoo.keys() & vost.keys()
    differently_shaped = {k for k in shared if zoo[k] != vost[k]}
    model = _model("rmem_r50_aotl")
    init = {k: v.clone() for k, v in model.state_dict().items()}
    report = initialise_weights(model, TrainConfig(pretrained=str(zoo_file), pretrained_mode="non_strict"), "resnet50")
    assert set(report.unexpected) == zoo.keys() - vost.keys()  # relative_emb_k/v of each layer, mask_token
    assert set(report.missing) == vost.keys() - zoo.keys()  # QMem/VMem/KMem, norm4, temporal PE
    assert {k for k, _, _ in report.partially_copied} == differently_shaped == {"patch_wise_id_bank.weight"}
    assert not report.skipped_mismatched
    assert set(report.loaded) == shared - differently_shaped
    file_weights = torch.load(zoo_file)["state_dict"]
    state = model.state_dict()
    bank = state["patch_wise_id_bank.weight"]
    assert torch.equal(bank[:, :11], file_weights["patch_wise_id_bank.weight"])
    assert torch.equal(bank[:, 11], init["patch_wise_id_bank.weight"][:, 11])  # ignore channel keeps its init
    assert torch.equal(state["mem_pos_emb"], init["mem_pos_emb"])
    assert torch.equal(state["encoder.layer3.5.conv3.weight"], file_weights["encoder.layer3.5.conv3.weight"])


def test_strict_and_encoder_modes(zoo_file, tmp_path):
    with pytest.raises(StartupError, match=r"train.pretrained \(full\)"):
        initialise_weights(_model("rmem_r50_aotl"), TrainConfig(pretrained=str(zoo_file), pretrained_mode="full"),
                           "resnet50")
    model = _model("rmem_r50_aotl")
    before = model.state_dict()["LSTT.layers.0.linear_Q.weight"].clone()
    report = initialise_weights(model, TrainConfig(pretrained=str(zoo_file), pretrained_mode="encoder"), "resnet50")
    assert report.exact and len(report.loaded) == 215
    assert torch.equal(model.state_dict()["LSTT.layers.0.linear_Q.weight"], before)
    with pytest.raises(StartupError, match="not found"):
        initialise_weights(model, TrainConfig(pretrained=str(tmp_path / "missing.pth"), pretrained_mode="imagenet"),
                           "resnet50")
