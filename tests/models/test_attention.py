"""Attention primitives against brute-force implementations (``docs/model.md``, Attention primitives)."""
import math

import pytest
import torch
import torch.nn.functional as F

from aot_plus.models.layers.attention import (LocalAttention, LocalGatedPropagation, attend, window_aggregate,
                                              window_logits, window_softmax, window_valid)


def _dense_window(q, k, v, radius, dilation, rel=None):
    """Per-query loops: softmax over in-map window positions of <q, k> (+ rel), sum of the values."""
    n, _, h, w = q.shape
    size = 2 * radius + 1
    out = torch.zeros(n, v.shape[1], h, w, dtype=torch.float64)
    probs = torch.zeros(n, size * size, h, w, dtype=torch.float64)
    for b in range(n):
        for y in range(h):
            for x in range(w):
                logits, values, index = [], [], []
                for dy in range(size):
                    for dx in range(size):
                        ky, kx = y + (dy - radius) * dilation, x + (dx - radius) * dilation
                        if 0 <= ky < h and 0 <= kx < w:
                            pos = dy * size + dx
                            logit = (q[b, :, y, x].double() * k[b, :, ky, kx].double()).sum()
                            if rel is not None:
                                logit = logit + rel[b, pos, y, x].double()
                            logits.append(logit)
                            values.append(v[b, :, ky, kx].double())
                            index.append(pos)
                p = torch.softmax(torch.stack(logits), 0)
                out[b, :, y, x] = (p[:, None] * torch.stack(values)).sum(0)
                probs[b, index, y, x] = p
    return out, probs


@pytest.mark.parametrize("radius,dilation", [(2, 1), (1, 2), (7, 1)])
def test_window_functions_match_brute_force(radius, dilation):
    torch.manual_seed(0)
    q, k, v = torch.randn(2, 4, 5, 6), torch.randn(2, 4, 5, 6), torch.randn(2, 3, 5, 6)
    probs = window_softmax(window_logits(q, k, radius, dilation), window_valid((5, 6), radius, dilation, q.device))
    out = window_aggregate(probs, v, radius, dilation)
    expected, expected_probs = _dense_window(q, k, v, radius, dilation)
    torch.testing.assert_close(probs.double(), expected_probs, atol=1e-6, rtol=0)
    torch.testing.assert_close(out.double(), expected, atol=1e-5, rtol=0)


@pytest.mark.parametrize("radius,dilation,max_elements", [(3, 1, 1 << 25), (2, 2, 1), (4, 1, 3675)])
def test_vectorised_window_matches_per_offset_shifts_in_float64(radius, dilation, max_elements):
    """Windows reaching past every border, dilation, and bands of 1 or 2 rows against shifted padded maps."""
    torch.manual_seed(4)
    n, h, w = 3, 5, 7
    size, pad = 2 * radius + 1, radius * dilation
    q, k = torch.randn(n, 6, h, w, dtype=torch.float64), torch.randn(n, 6, h, w, dtype=torch.float64)
    v = torch.randn(n, 4, h, w, dtype=torch.float64)
    probs = torch.softmax(torch.randn(n, size * size, h, w, dtype=torch.float64), dim=1)
    k_pad, v_pad = F.pad(k, (pad, pad, pad, pad)), F.pad(v, (pad, pad, pad, pad))
    logits = torch.empty(n, size * size, h, w, dtype=torch.float64)
    out = torch.zeros_like(v)
    for dy in range(size):
        for dx in range(size):
            oy, ox = dy * dilation, dx * dilation
            logits[:, dy * size + dx] = (q * k_pad[:, :, oy:oy + h, ox:ox + w]).sum(dim=1)
            out += probs[:, dy * size + dx:dy * size + dx + 1] * v_pad[:, :, oy:oy + h, ox:ox + w]
    torch.testing.assert_close(window_logits(q, k, radius, dilation, max_elements), logits, atol=1e-12, rtol=0)
    torch.testing.assert_close(window_aggregate(probs, v, radius, dilation, max_elements), out, atol=1e-12, rtol=0)


@pytest.mark.parametrize("max_elements", [1 << 24, 1])
def test_window_functions_gradients(max_elements):
    torch.manual_seed(5)
    q, k = (torch.randn(2, 3, 4, 5, dtype=torch.float64, requires_grad=True) for _ in range(2))
    probs = torch.rand(2, 9, 4, 5, dtype=torch.float64, requires_grad=True)
    v = torch.randn(2, 2, 4, 5, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda a, b: window_logits(a, b, 1, 2, max_elements), (q, k))
    assert torch.autograd.gradcheck(lambda a, b: window_aggregate(a, b, 1, 2, max_elements), (probs, v))


def test_local_gated_propagation_matches_brute_force():
    torch.manual_seed(1)
    module = LocalGatedPropagation(d_vu=8, heads=1, d_att=4, radius=2).eval()
    h, w = 4, 5
    q, k, v = torch.randn(1, 4, h, w), torch.randn(1, 4, h, w), torch.randn(1, 16, h, w)
    u = torch.randn(h * w, 1, 16)
    rel = module.relative_emb_k(q)
    agg, _ = _dense_window(q / math.sqrt(4), k, v, 2, 1, rel)
    gated = agg.float().view(1, 16, h * w).permute(2, 0, 1) * u
    expected = module.projection(module.dw_conv(gated, (h, w)))
    torch.testing.assert_close(module(q, k, v, u, (h, w)), expected, atol=1e-5, rtol=0)


def test_zoo_local_attention_adds_the_relative_value_bias():
    torch.manual_seed(2)
    module = LocalAttention(dim=8, heads=2, radius=1).eval()
    torch.nn.init.normal_(module.relative_emb_v)
    h, w = 3, 4
    q, k, v = torch.randn(1, 8, h, w), torch.randn(1, 8, h, w), torch.randn(1, 8, h, w)
    rel = module.relative_emb_k(q).view(2, 9, h, w)
    heads = []
    for head in range(2):
        sl = slice(4 * head, 4 * head + 4)
        agg, probs = _dense_window(q[:, sl] / 2.0, k[:, sl], v[:, sl], 1, 1, rel[head:head + 1])
        bias = torch.einsum("nyx,cn->cyx", probs[0], module.relative_emb_v[head].double())
        heads.append(agg[0] + bias)
    expected = module.projection(torch.cat(heads).float().view(8, h * w).t()[:, None, :])
    torch.testing.assert_close(module(q, k, v), expected, atol=1e-5, rtol=0)


def test_attend_mass_path_matches_fused_path_and_sums_per_frame():
    torch.manual_seed(3)
    frames, tokens, heads = 3, 6, 4
    q = torch.randn(tokens, 1, 16)
    k = torch.randn(frames * tokens, 1, 16)
    v = torch.randn(frames * tokens, 1, 8)
    fused, none = attend(q, k, v, heads)
    explicit, mass = attend(q, k, v, heads, mass_frames=frames)
    assert none is None
    torch.testing.assert_close(fused, explicit, atol=1e-5, rtol=1e-5)
    assert mass.shape == (1, tokens, frames)
    torch.testing.assert_close(mass.sum(-1), torch.ones(1, tokens))
    qh = q.view(tokens, heads, 4).permute(1, 0, 2)
    kh = k.view(frames * tokens, heads, 4).permute(1, 0, 2)
    probs = torch.softmax(qh @ kh.transpose(1, 2) / 2.0, dim=-1)
    expected = probs.view(heads, tokens, frames, tokens).mean(0).sum(-1)
    torch.testing.assert_close(mass[0], expected, atol=1e-6, rtol=0)


@pytest.mark.parametrize("with_mass", [False, True])
def test_attend_masked_frames_equals_attention_over_the_filled_frames(with_mass):
    gen = torch.Generator().manual_seed(3)
    frames, tokens, batch, heads, dim = 5, 6, 2, 4, 16
    q = torch.randn(7, batch, dim, generator=gen)
    k = torch.randn(frames * tokens, batch, dim, generator=gen)
    v = torch.randn(frames * tokens, batch, dim, generator=gen)
    valid = torch.tensor([True, False, True, True, False])
    keep = valid.repeat_interleave(tokens)
    # Empty slots hold large values: any attention leaking to them would show.
    k_full, v_full = k.clone(), v.clone()
    k_full[~keep] = 50.0
    v_full[~keep] = 1e3
    out, mass = attend(q, k_full, v_full, heads, frames if with_mass else None, frame_valid=valid)
    want, want_mass = attend(q, k[keep], v[keep], heads, 3 if with_mass else None)
    torch.testing.assert_close(out, want, rtol=1e-5, atol=1e-5)
    if with_mass:
        assert mass.shape == (batch, 7, frames) and float(mass[..., ~valid].abs().max()) == 0.0
        torch.testing.assert_close(mass[..., valid], want_mass, rtol=1e-5, atol=1e-6)
    else:
        assert mass is None


@pytest.mark.parametrize("with_mass", [False, True])
def test_masked_attend_compiles_with_inductor(with_mass):
    """Inductor rewrites masked attention into its fused kernel; the head layout must let it (it failed once)."""
    gen = torch.Generator().manual_seed(4)
    q, k = torch.randn(9, 1, 32, generator=gen), torch.randn(27, 1, 32, generator=gen)
    v = torch.randn(27, 1, 64, generator=gen)
    valid = torch.tensor([True, True, False])
    compiled = torch.compile(lambda *args: attend(*args, 2, 3 if with_mass else None, valid), dynamic=False)
    with torch.no_grad():
        got, want = compiled(q, k, v)[0], attend(q, k, v, 2, 3 if with_mass else None, valid)[0]
    torch.testing.assert_close(got, want, rtol=0, atol=1e-5)
