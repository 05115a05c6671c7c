"""The public parity cases through ``aot_plus.parity``: every frame within atol 2e-3, kept frames identical."""
import dataclasses
import io
import json
import shutil
from pathlib import Path

import pytest
import torch

from aot_plus import parity

CASES = Path(__file__).resolve().parent / "fixtures" / "parity"
NAMES = ["aott_unbounded", "r50_aotl_tpe_rmem", "r50_deaotl_tpe_emfs"]


@pytest.fixture(scope="module")
def reports():
    torch.set_num_threads(1)
    return {name: parity.run_case(CASES / name) for name in NAMES}


@pytest.mark.parametrize("name", NAMES)
def test_case_passes(reports, name):
    report = reports[name]
    assert not report.failures, report.failures
    expected = json.loads((CASES / name / "case.json").read_text())["kept_long_term_frames"]
    assert [list(f.kept) for f in report.frames] == expected[1:]
    assert report.max_diff < 1e-3
    assert all(f.label_mismatches == 0 for f in report.frames)


def test_relevance_eviction_order_is_reproduced(reports):
    # parity/README.md: with the scale rule the RMem case evicts 4, 5, 3, 6, 1, 2, 9, 7, 8 (not FIFO order).
    kept = [set(f.kept) for f in reports["r50_aotl_tpe_rmem"].frames]
    evicted = [next(iter(before - after)) for before, after in zip(kept, kept[1:]) if before - after]
    assert evicted == [4, 5, 3, 6, 1, 2, 9, 7, 8]


def test_report_lines_and_failure_line(reports):
    out = io.StringIO()
    parity.write_report(reports["aott_unbounded"], out)
    lines = out.getvalue().splitlines()
    assert lines[-1].startswith("PARITY OK") and len(lines) == 2 + 11 + 1
    out = io.StringIO()
    parity.write_report(dataclasses.replace(reports["aott_unbounded"], atol=1e-6), out)
    assert out.getvalue().splitlines()[-1].startswith("PARITY FAIL: 11 problem(s); frame 1: max |dp|")


def test_cli_exit_status(capsys):
    assert parity.main([str(CASES / "aott_unbounded")]) == 0
    assert capsys.readouterr().out.splitlines()[-1].startswith("PARITY OK")


def test_cli_rejects_a_mixed_folder(tmp_path, capsys):
    case = tmp_path / "mixed"
    shutil.copytree(CASES / "aott_unbounded", case)
    data = json.loads((case / "case.json").read_text())
    data["fixture_id"] = "0000000000000000"
    (case / "case.json").write_text(json.dumps(data))
    assert parity.main([str(case)]) == 1
    assert "PARITY FAIL" in capsys.readouterr().out
    (case / "case.npz").unlink()
    assert parity.main([str(case)]) == 1
    assert "case.npz does not exist" in capsys.readouterr().out


def test_fill_rule():
    value = parity.fill_value("decoder.conv_out.weight", (2, 3, 1, 1), 0, [["conv_out.weight", 10.0]])
    plain = parity.fill_value("decoder.conv_out.weight", (2, 3, 1, 1), 0, [])
    assert value.dtype == "float32" and value.shape == (2, 3, 1, 1)
    assert abs(value - 10 * plain).max() < 1e-5
    assert (parity.fill_value("x.running_var", (5,), 1, []) >= 0.5).all()
    assert parity.fill_value("x.num_batches_tracked", (), 0, []).dtype == "int64"
