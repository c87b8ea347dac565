import math

import torch
import torch.nn.functional as F

from app.drills.harness import case, check, check_close, check_grads, check_shape

NAMES = ("ln1_g", "ln1_b", "w_q", "w_k", "w_v", "w_o", "ln2_g", "ln2_b", "w1", "b1", "w2", "b2")


def make(seed, b=2, n=5, d=16, d_ff=32, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)

    def r(*shape, scale=1.0):
        return (torch.randn(*shape, generator=g) * scale).to(dtype)

    x = r(b, n, d)
    p = {
        "ln1_g": 1 + r(d, scale=0.1),
        "ln1_b": r(d, scale=0.1),
        "ln2_g": 1 + r(d, scale=0.1),
        "ln2_b": r(d, scale=0.1),
        "w1": r(d, d_ff, scale=d**-0.5),
        "b1": r(d_ff, scale=0.1),
        "w2": r(d_ff, d, scale=d_ff**-0.5),
        "b2": r(d, scale=0.1),
    }
    for name in ("w_q", "w_k", "w_v", "w_o"):
        p[name] = r(d, d, scale=d**-0.5)
    return x, p


def variant(x, p, n_heads, *, post_ln=False, causal=True, act=F.gelu):
    """The block with one usual slip, to name it when a submission matches it."""
    b, n, d = x.shape
    dh = d // n_heads

    def ln(t, i):
        return F.layer_norm(t, (d,), p[f"ln{i}_g"], p[f"ln{i}_b"], 1e-5)

    def mha(t):
        q, k, v = (
            (t @ p[w]).reshape(b, n, n_heads, dh).transpose(1, 2) for w in ("w_q", "w_k", "w_v")
        )
        s = q @ k.transpose(-2, -1) / math.sqrt(dh)
        if causal:
            s = s.masked_fill(~torch.ones(n, n, dtype=torch.bool).tril(), float("-inf"))
        return (torch.softmax(s, -1) @ v).transpose(1, 2).reshape(b, n, d) @ p["w_o"]

    def ffn(t):
        return act(t @ p["w1"] + p["b1"]) @ p["w2"] + p["b2"]

    if post_ln:
        h = ln(x + mha(x), 1)
        return ln(h + ffn(h), 2)
    h = x + mha(ln(x, 1))
    return h + ffn(ln(h, 2))


SLIPS = [
    (
        dict(post_ln=True),
        "this is the post-LN block, LN(x + f(x)); pre-LN normalises the sub-layer's input: x + f(LN(x))",
    ),
    (dict(causal=False), "no causal mask: each position also attends to later ones"),
    (dict(act=torch.relu), "the FFN uses ReLU; this block uses GELU (F.gelu, the exact erf form)"),
    (
        dict(act=lambda t: F.gelu(t, approximate="tanh")),
        "the FFN uses the tanh approximation of GELU; use the exact one, F.gelu(t)",
    ),
]


def check_out(out, expected, x, p, n_heads, what="out"):
    check_shape(out, expected.shape, what)
    if out.dtype == torch.float32 and not torch.allclose(out, expected, atol=1e-4):
        for kwargs, message in SLIPS:
            if torch.allclose(out, variant(x, p, n_heads, **kwargs), atol=1e-4):
                check(False, f"{what}: {message}")
    check_close(out, expected, what)


@case("shape (2, 5, 16) with 4 heads", zh="4 个头时形状为 (2, 5, 16)", visible=True)
def shape(fn, ref):
    x, p = make(0)
    check_shape(fn(x, p, 4), (2, 5, 16), "out")


@case(
    "with w_o, w2 and b2 at zero the block is the identity",
    zh="w_o、w2、b2 全为零时整个块是恒等映射",
    visible=True,
)
def identity(fn, ref):
    x, p = make(1)
    p = dict(p, w_o=torch.zeros(16, 16), w2=torch.zeros(32, 16), b2=torch.zeros(16))
    # Both sub-layers add nothing, so the residual path carries x through unchanged.
    check_close(fn(x, p, 4), x, "out")


@case(
    "pre-LN: each sub-layer reads LN(x) and adds to the raw x",
    zh="Pre-LN：每个子层读入 LN(x)，结果加回未归一化的 x",
)
def pre_ln(fn, ref):
    x, p = make(2)
    check_out(fn(x, p, 4), ref(x, p, 4), x, p, 4)


@case(
    "causal: changing later tokens leaves earlier outputs alone",
    zh="因果性：改动后面的词元不影响前面的输出",
)
def causal(fn, ref):
    x, p = make(3, n=6)
    out = fn(x, p, 2)
    check_shape(out, (2, 6, 16), "out")
    changed = x.clone()
    # New random tokens (a constant shift would vanish in the LayerNorm).
    changed[:, 4:] = torch.randn(2, 2, 16, generator=torch.Generator().manual_seed(30))
    later = fn(changed, p, 2)
    check_shape(later, (2, 6, 16), "out")
    if not torch.allclose(later[:, :4], out[:, :4], atol=1e-5):
        check(False, "out: positions 0-3 changed when only tokens 4 and 5 did: mask the future")
    check_out(out, ref(x, p, 2), x, p, 2)


@case("GELU in the feed-forward network", zh="前馈网络使用 GELU")
def gelu(fn, ref):
    x, p = make(4, d_ff=64)
    p = dict(p, b1=p["b1"] - 0.5)  # many negative pre-activations, where ReLU and GELU differ
    check_out(fn(x, p, 4), ref(x, p, 4), x, p, 4)


@case("one token, one sequence, one head", zh="一个词元、一条序列、一个头")
def tiny(fn, ref):
    x, p = make(5, b=1, n=1, d=8, d_ff=16)
    check_out(fn(x, p, 1), ref(x, p, 1), x, p, 1)


@case("float64 keeps its dtype", zh="float64 输入保持原 dtype")
def float64(fn, ref):
    x, p = make(6, dtype=torch.float64)
    check_close(fn(x, p, 4), ref(x, p, 4), "out (float64)")


@case("gradients reach x and every parameter", zh="梯度传到 x 和每个参数")
def gradients(fn, ref):
    grads = []
    for f in (ref, fn):
        x, p = make(7, n=4, d=8, d_ff=16)
        x.requires_grad_()
        for t in p.values():
            t.requires_grad_()
        up = torch.randn(2, 4, 8, generator=torch.Generator().manual_seed(8))
        (f(x, p, 2) * up).sum().backward()
        grads.append([x.grad] + [p[name].grad for name in NAMES])
    check_grads(grads[1], grads[0], ("x", *NAMES))
