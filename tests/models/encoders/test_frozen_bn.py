"""FrozenBatchNorm2d: buffers, initial identity, and the normalisation formula in train and eval mode."""
import torch

from aot_plus.models.encoders import FrozenBatchNorm2d


def test_buffers_and_init():
    bn = FrozenBatchNorm2d(3)
    assert list(bn.state_dict()) == ["weight", "bias", "running_mean", "running_var"]
    assert list(bn.parameters()) == []
    assert torch.equal(bn.running_var, torch.full((3,), 1 - 1e-5))
    assert bn.eps == 1e-5
    x = torch.randn(2, 3, 4, 5)
    torch.testing.assert_close(bn(x), x, rtol=0, atol=1e-6)


def test_formula_train_and_eval_with_gradient():
    bn = FrozenBatchNorm2d(2)
    bn.weight.copy_(torch.tensor([2.0, -0.5]))
    bn.bias.copy_(torch.tensor([0.1, 0.3]))
    bn.running_mean.copy_(torch.tensor([1.0, -2.0]))
    bn.running_var.copy_(torch.tensor([4.0, 0.25]))
    x = torch.tensor([[[[3.0]], [[-1.0]]]], requires_grad=True)
    expected = torch.tensor([2.0 * (3.0 - 1.0) / (4.0 + 1e-5) ** 0.5 + 0.1,
                             -0.5 * (-1.0 + 2.0) / (0.25 + 1e-5) ** 0.5 + 0.3]).view(1, 2, 1, 1)
    for train in (True, False):
        bn.train(train)
        out = bn(x)
        torch.testing.assert_close(out, expected)
    out.sum().backward()
    torch.testing.assert_close(x.grad.view(2), torch.tensor([2.0 / (4.0 + 1e-5) ** 0.5, -0.5 / (0.25 + 1e-5) ** 0.5]))
    assert torch.equal(bn.running_mean, torch.tensor([1.0, -2.0]))
