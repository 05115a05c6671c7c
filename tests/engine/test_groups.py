"""Identity groups for more objects than identities, and the rule that masks unused identities (docs/identities.md)."""
import torch

from aot_plus.engine.groups import (group_label, group_object_count, group_probabilities, mask_unused_identities,
                                    merge_probabilities, num_groups)


def test_group_sizes():
    assert [num_groups(k, 10) for k in (0, 1, 10, 11, 25)] == [1, 1, 1, 2, 3]
    assert [group_object_count(25, g, 10) for g in range(3)] == [10, 10, 5]


def test_group_labels_renumber_and_keep_ignore():
    label = torch.tensor([[0, 3, 10, 11], [12, 25, 255, 21]])
    assert group_label(label, 0, 10).tolist() == [[0, 3, 10, 0], [0, 0, 255, 0]]
    assert group_label(label, 1, 10).tolist() == [[0, 0, 0, 1], [2, 0, 255, 0]]
    assert group_label(label, 2, 10).tolist() == [[0, 0, 0, 0], [0, 5, 255, 1]]


def test_soft_aggregation_matches_the_reference_formula():
    torch.manual_seed(0)
    a = torch.softmax(torch.randn(1, 11, 2, 3), dim=1)
    b = torch.softmax(torch.randn(1, 11, 2, 3), dim=1)
    merged = merge_probabilities([a, b])
    raw = torch.cat([a[:, :1] * b[:, :1], a[:, 1:], b[:, 1:]], dim=1).clamp(1e-5, 1 - 1e-5)
    expected = torch.softmax(torch.log(raw / (1 - raw)), dim=1)
    torch.testing.assert_close(merged, expected)
    assert merge_probabilities([a]) is a
    back = group_probabilities(merged, 1, 10)
    torch.testing.assert_close(back[:, 1:], merged[:, 11:])
    torch.testing.assert_close(back.sum(dim=1), torch.ones(1, 2, 3))


def test_mask_unused_identities_one_rule_for_int_and_per_sample_counts():
    logits = torch.zeros(2, 4, 1, 1)
    per_sample = mask_unused_identities(logits, torch.tensor([1, 3]))
    assert per_sample[:, :, 0, 0].tolist() == [[0.0, 0.0, -1e10, -1e10], [0.0, 0.0, 0.0, 0.0]]
    assert torch.equal(mask_unused_identities(logits, 1), per_sample[:1].expand(2, -1, -1, -1))
    assert logits.abs().sum() == 0  # the input is left as it was
    for dtype, value in ((torch.float32, -1e10), (torch.float16, -1e4), (torch.bfloat16, -1e4)):
        masked = mask_unused_identities(logits.to(dtype), 2)
        assert masked.dtype == dtype and masked[0, 3, 0, 0] == torch.tensor(value, dtype=dtype)
        assert torch.softmax(masked.float(), dim=1)[0, 3, 0, 0] == 0
