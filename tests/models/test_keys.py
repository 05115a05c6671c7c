"""Every released state_dict layout: the network built from our config has exactly its keys, shapes and dtypes."""
from pathlib import Path

import pytest

from aot_plus.models import keys
from aot_plus.models.keys import load_model_config, model_listing

LISTINGS = Path(__file__).resolve().parents[1] / "fixtures" / "models" / "state_dict_keys"
NAMES = sorted(p.stem for p in LISTINGS.glob("*.txt"))


def test_all_listings_are_present():
    assert len(NAMES) == 19, f"expected the 19 listings of shared/parity/state_dict_keys in {LISTINGS}"


@pytest.mark.parametrize("name", NAMES)
def test_listing(name):
    expected = (LISTINGS / f"{name}.txt").read_text().splitlines()
    ours = model_listing(load_model_config(name))
    missing, extra = sorted(set(expected) - set(ours)), sorted(set(ours) - set(expected))
    assert not missing and not extra, f"missing {missing[:5]}, unexpected {extra[:5]}"
    assert ours == expected  # the same order too, so `diff` against the listing is empty


def test_cli_prints_the_listing(capsys):
    assert keys.main(["rmem_aott"]) == 0
    assert capsys.readouterr().out.splitlines() == (LISTINGS / "rmem_aott.txt").read_text().splitlines()


def test_cli_rejects_unknown_names(capsys):
    with pytest.raises(SystemExit):
        keys.main(["nope"])
    assert "known models" in capsys.readouterr().err
