"""Pre-LN vs Post-LN at initialisation (Xiong et al. 2020, "On Layer Normalization in the
Transformer Architecture", §3 and Figure 3): the same L blocks, the same weights, the LayerNorm
either after each residual add (Post-LN, the 2017 Transformer) or at the start of each branch
(Pre-LN, plus one final LayerNorm). One backward pass on a seeded batch, and the gradient norm of
each block's parameters: Post-LN's grow toward the output, and its output-side gradients are
several times Pre-LN's, a gap that widens with depth (Pre-LN's scale as 1/√L in the paper's
analysis), which is why Post-LN needs a learning-rate warmup and Pre-LN trains without one."""

from __future__ import annotations

import math

from pydantic import Field, model_validator

from app.bank.models import Localized as L
from app.demos import (
    Chart,
    DemoParams,
    DemoResult,
    Scalar,
    Series,
    Table,
    generator,
    register,
    seeded_global_rng,
)
from app.demos._lazy import F, nn, torch


class Params(DemoParams):
    n_layers: int = Field(12, ge=2, le=24, description="Blocks (L).")
    d_model: int = Field(32, ge=16, le=128, description="Model width (divisible by n_heads).")
    n_heads: int = Field(4, ge=1, le=8, description="Attention heads.")
    seq_len: int = Field(16, ge=4, le=32, description="Tokens per sequence.")
    batch: int = Field(8, ge=1, le=16, description="Sequences in the batch.")

    @model_validator(mode="after")
    def _heads_divide(self) -> Params:
        if self.d_model % self.n_heads:
            raise ValueError(f"n_heads ({self.n_heads}) must divide d_model ({self.d_model})")
        return self


VOCAB = 32  # classes of the random read-out the loss is taken over


def build(p: Params, pre_ln: bool, seed: int) -> nn.ModuleList:
    """L blocks of nn.TransformerEncoderLayer (ReLU FFN of 4d, no dropout). Weight matrices get
    Xavier-uniform init and biases zero, as in the paper; the same seed gives Pre-LN and Post-LN
    the same weights, so only where the LayerNorm sits differs."""
    with seeded_global_rng(seed):
        blocks = nn.ModuleList(
            nn.TransformerEncoderLayer(
                p.d_model,
                p.n_heads,
                4 * p.d_model,
                dropout=0.0,
                batch_first=True,
                norm_first=pre_ln,
            )
            for _ in range(p.n_layers)
        )
        for name, q in blocks.named_parameters():
            if q.dim() == 2:
                nn.init.xavier_uniform_(q)
            elif "norm" not in name:
                nn.init.zeros_(q)
    return blocks


def layer_grad_norms(p: Params, pre_ln: bool, seed: int) -> list[float]:
    """‖∂loss/∂θ_l‖ for each block l after one backward pass (cross-entropy of a random linear
    read-out against random labels)."""
    g = generator(seed)
    x = torch.randn(p.batch, p.seq_len, p.d_model, generator=g)
    read_out = torch.randn(p.d_model, VOCAB, generator=g) / math.sqrt(p.d_model)
    labels = torch.randint(0, VOCAB, (p.batch * p.seq_len,), generator=g)
    blocks = build(p, pre_ln, seed)
    h = x
    for block in blocks:
        h = block(h)
    if pre_ln:
        h = F.layer_norm(h, (p.d_model,))  # Pre-LN's final LayerNorm
    loss = F.cross_entropy((h @ read_out).reshape(-1, VOCAB), labels)
    params = list(blocks.parameters())
    grads = dict(zip(params, torch.autograd.grad(loss, params), strict=True))
    return [
        math.sqrt(sum(grads[q].pow(2).sum().item() for q in block.parameters())) for block in blocks
    ]


def growth(norms: list[float]) -> float:
    """exp of a least-squares slope of log‖grad‖ over the layer index, times (L − 1): how many
    times larger the last layer's gradient is than the first's, along the fitted trend (less
    noisy than dividing two single layers)."""
    n = len(norms)
    mx = (n - 1) / 2
    ys = [math.log(v) for v in norms]
    my = sum(ys) / n
    slope = sum((i - mx) * (y - my) for i, y in enumerate(ys)) / sum(
        (i - mx) ** 2 for i in range(n)
    )
    return math.exp(slope * (n - 1))


@register(
    "pre-vs-post-ln",
    title=L(zh="Pre-LN 与 Post-LN 的梯度", en="Pre-LN vs Post-LN gradients"),
    description=L(
        zh="同样的 L 个 block、同样的初始权重，只把 LayerNorm 放在残差相加之后（Post-LN）或分支开头（Pre-LN）。初始化时做一次反向传播，画出每层参数的梯度范数：Post-LN 越靠近输出越大，而且输出端的梯度是 Pre-LN 的好几倍。",
        en="The same L blocks and the same initial weights, the LayerNorm either after each residual add (Post-LN) or at the start of each branch (Pre-LN). One backward pass at initialisation and each layer's gradient norm: Post-LN's grow toward the output, and its output-side gradients are several times Pre-LN's.",
    ),
    params=Params,
    serves=("norm-at-depth",),
)
def run(p: Params, seed: int) -> DemoResult:
    post = layer_grad_norms(p, pre_ln=False, seed=seed)
    pre = layer_grad_norms(p, pre_ln=True, seed=seed)
    g_post, g_pre = growth(post), growth(pre)
    last_ratio = post[-1] / pre[-1]
    first_ratio = post[0] / pre[0]
    layers = list(range(1, p.n_layers + 1))
    return DemoResult(
        conclusion=L(
            zh=(
                f"{p.n_layers} 层，初始化时：Post-LN 的逐层梯度范数从第 1 层到第 {p.n_layers} 层按拟合趋势增大到 {g_post:.2f} 倍，Pre-LN 则是 {g_pre:.2f} 倍（不增反略降：前面的层还收到后面所有分支传回的梯度）。"
                f"最后一层 Post-LN 的梯度是 Pre-LN 的 {last_ratio:.1f} 倍（第一层为 {first_ratio:.1f} 倍）。Xiong 等人的分析里 Pre-LN 输出端梯度随 1/√L 缩小，Post-LN 不会，所以 Post-LN 一开始就用大学习率容易不稳，需要 warmup。"
            ),
            en=(
                f"{p.n_layers} layers at initialisation: along the fitted trend, Post-LN's per-layer gradient norm grows {g_post:.2f}× from layer 1 to layer {p.n_layers}, Pre-LN's changes {g_pre:.2f}× (no growth; it even falls a little, since earlier layers also receive every later branch's gradient). "
                f"At the last layer Post-LN's gradient is {last_ratio:.1f}× Pre-LN's ({first_ratio:.1f}× at the first). In Xiong et al.'s analysis Pre-LN's output-side gradients shrink as 1/√L while Post-LN's do not, which is why Post-LN with a large learning rate from step one tends to diverge and needs warmup."
            ),
        ),
        scalars=[
            Scalar(
                key="post_growth",
                label=L(zh="Post-LN：末层/首层（拟合）", en="Post-LN: last / first layer (fitted)"),
                value=g_post,
            ),
            Scalar(
                key="pre_growth",
                label=L(zh="Pre-LN：末层/首层（拟合）", en="Pre-LN: last / first layer (fitted)"),
                value=g_pre,
            ),
            Scalar(
                key="last_layer_post_over_pre",
                label=L(zh="末层梯度 Post/Pre", en="last-layer gradient, Post / Pre"),
                value=last_ratio,
            ),
            Scalar(
                key="first_layer_post_over_pre",
                label=L(zh="首层梯度 Post/Pre", en="first-layer gradient, Post / Pre"),
                value=first_ratio,
            ),
        ],
        charts=[
            Chart(
                title=L(
                    zh="初始化时每层参数的梯度范数（一次反向传播）",
                    en="Gradient norm of each layer's parameters at initialisation (one backward pass)",
                ),
                x_label="layer (1 = next to the input)",
                y_label="‖∂loss/∂θ_layer‖₂",
                log_y=True,
                series=[
                    Series(name="Post-LN", x=layers, y=post),
                    Series(name="Pre-LN", x=layers, y=pre),
                ],
            )
        ],
        tables=[
            Table(
                title=L(
                    zh="LayerNorm 放在哪里",
                    en="Where the LayerNorm sits",
                ),
                columns=["", "block computes", "final LayerNorm", "warmup"],
                rows=[
                    ["Post-LN", "x ← LN(x + F(x))", "no (each block ends in one)", "needed"],
                    ["Pre-LN", "x ← x + F(LN(x))", "yes", "can be dropped"],
                ],
            ),
        ],
    )
