"""Tests of the object-id list: the reference reader's order, squeezing and restoring."""
from __future__ import annotations

import numpy as np
import pytest

from aot_plus.data.object_ids import ObjectIds


def test_object_ids_follow_the_reference_reader():
    ids = ObjectIds()
    first = np.array([[0, 3], [255, 7]], np.uint8)
    assert ids.add(first) == [3, 7, 255]
    assert ids.ids == [0, 3, 7, 255] and ids.count == 3  # void becomes the last object
    np.testing.assert_array_equal(ids.squeeze(first), [[0, 1], [3, 2]])
    assert ids.add(np.array([[5, 3]], np.uint8)) == [5]
    assert ids.ids == [0, 3, 7, 255, 5] and ids.identity(5) == 4 and 7 in ids and 6 not in ids
    np.testing.assert_array_equal(ids.restore(np.array([[4, 1, 9]], np.uint8)), [[5, 3, 0]])  # 9: unused identity
    assert ids.restore_table()[:6].tolist() == [0, 3, 7, 255, 5, 0]


def test_add_ids_sorts_new_ids_and_checks_the_range():
    ids = ObjectIds()
    assert ids.add_ids([9, 2, 9]) == [2, 9] and ids.add_ids([2, 4]) == [4]
    assert ids.ids == [0, 2, 9, 4]
    copy = ids.copy()
    copy.add_ids([1])
    assert ids.ids == [0, 2, 9, 4]  # the copy is independent
    with pytest.raises(ValueError, match="1..255"):
        ids.add_ids([256])
