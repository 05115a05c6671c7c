"""Shared helpers for the encoder tests: the reference key listings."""
from pathlib import Path

import pytest
import torch

from aot_plus.parity import fill_value as parity_fill_value

LISTING_DIR = Path(__file__).resolve().parents[2] / "fixtures" / "models" / "state_dict_keys"


def read_encoder_listing(path: Path) -> list[tuple[str, str, str]]:
    """``(key without 'encoder.', shape, dtype)`` of every ``encoder.`` line of a listing, in file order."""
    rows = []
    for line in path.read_text().splitlines():
        key, shape, dtype = line.split("\t")
        if key.startswith("encoder."):
            rows.append((key[len("encoder."):], shape, dtype))
    return rows


def state_dict_rows(module) -> list[tuple[str, str, str]]:
    """``(key, shape, dtype)`` rows of a module's state dict in the listing format."""
    return [(key, str(tuple(value.shape)), str(value.dtype).removeprefix("torch."))
            for key, value in module.state_dict().items()]


@pytest.fixture(scope="session")
def listings() -> dict[str, list[tuple[str, str, str]]]:
    """Encoder rows of every listing in the fixtures, keyed by file stem."""
    return {path.stem: read_encoder_listing(path) for path in sorted(LISTING_DIR.glob("*.txt"))}


# Each encoder is recognised by the first key of its listing.
FIRST_KEY_TO_ENCODER = {"features.0.0.weight": "mobilenetv2", "conv1.weight": "resnet50",
                        "patch_embed.proj.weight": "swin_base"}


@pytest.fixture(scope="session")
def listings_by_encoder(listings) -> dict[str, dict[str, list[tuple[str, str, str]]]]:
    """Listing rows grouped by encoder name: ``{encoder: {listing stem: rows}}``."""
    grouped: dict[str, dict[str, list[tuple[str, str, str]]]] = {}
    for stem, rows in listings.items():
        grouped.setdefault(FIRST_KEY_TO_ENCODER[rows[0][0]], {})[stem] = rows
    return grouped


@pytest.fixture(scope="session")
def rows_of():
    """The :func:`state_dict_rows` helper."""
    return state_dict_rows


def fill_value(key: str, shape, seed: int) -> torch.Tensor:
    """The parity fill rule of ``shared/parity/README.md`` (no encoder key meets the scale rule)."""
    return torch.from_numpy(parity_fill_value(key, tuple(shape), seed, ()))


@pytest.fixture(scope="session")
def fill_rule():
    """The :func:`fill_value` helper."""
    return fill_value
