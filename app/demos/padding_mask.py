"""Q5: masking padded keys before the softmax — −inf vs −1e9 vs finfo.min vs masking after the
softmax; a fully masked row; fp16 and −1e9."""

from __future__ import annotations

import math

from pydantic import Field, model_validator

from app.bank.models import Localized as L
from app.demos import DemoParams, DemoResult, Heatmap, Scalar, Table, generator, register
from app.demos._lazy import torch


class Params(DemoParams):
    seq_len: int = Field(6, ge=2, le=32, description="Padded length n.")
    real_len: int = Field(
        4, ge=0, le=32, description="Real tokens in the sequence (the rest is padding)."
    )
    d_k: int = Field(16, ge=1, le=256, description="Query/key width.")

    @model_validator(mode="after")
    def _fits(self) -> Params:
        if self.real_len > self.seq_len:
            raise ValueError(f"real_len ({self.real_len}) must be at most seq_len ({self.seq_len})")
        return self


def _fp16_minus_1e9() -> str:
    scores = torch.zeros(3, dtype=torch.float16)
    try:
        scores.masked_fill(torch.tensor([False, False, True]), -1e9)
        return "runs"
    except RuntimeError as e:
        return f"RuntimeError: {e}"


@register(
    "padding-mask",
    title=L(zh="padding 掩码的几种写法", en="Ways to mask padding"),
    description=L(
        zh="一条带 padding 的序列：softmax 前加 −∞、−1e9、finfo.min，或 softmax 后乘掩码，各自的权重、行和、全屏蔽行和 fp16 下的表现。",
        en="One padded sequence: adding −∞, −1e9 or finfo.min before the softmax, or multiplying by the mask after it — weights, row sums, a fully masked row, and fp16.",
    ),
    params=Params,
    serves=("Q5",),
)
def run(p: Params, seed: int) -> DemoResult:
    g = generator(seed)
    q = torch.randn(p.seq_len, p.d_k, generator=g)
    k = torch.randn(p.seq_len, p.d_k, generator=g)
    scores = q @ k.T / math.sqrt(p.d_k)
    keep = torch.arange(p.seq_len) < p.real_len  # key j is a real token
    pad = ~keep

    methods = {
        "−inf": scores.masked_fill(pad, float("-inf")).softmax(-1),
        "−1e9": scores.masked_fill(pad, -1e9).softmax(-1),
        "finfo.min": scores.masked_fill(pad, torch.finfo(scores.dtype).min).softmax(-1),
        "mask after softmax": scores.softmax(-1) * keep,
    }
    rows = []
    for name, w in methods.items():
        pad_weight = w[:, pad].abs().max().item() if pad.any() else 0.0
        sums = w.sum(-1)
        rows.append(
            [
                name,
                pad_weight,
                round(sums.min().item(), 6),
                round(sums.max().item(), 6),
                bool(torch.isnan(w).any()),
            ]
        )

    # A row whose every key is padding (e.g. a query that is itself padding, or real_len = 0).
    full = torch.zeros(1, p.seq_len)
    all_masked = torch.ones(p.seq_len, dtype=torch.bool)
    nan_inf = bool(torch.isnan(full.masked_fill(all_masked, float("-inf")).softmax(-1)).any())
    uniform_min = full.masked_fill(all_masked, torch.finfo(full.dtype).min).softmax(-1)
    fp16_cast = torch.tensor(-1e9).half().item()

    inf_w = methods["−inf"]
    after_sum = methods["mask after softmax"].sum(-1).mean().item()
    return DemoResult(
        conclusion=L(
            zh=f"加 −∞/−1e9/finfo.min：padding 权重为 0、每行和为 1；softmax 后再乘掩码：行和平均只有 {after_sum:.3f}。整行被屏蔽时 −∞ 得到 NaN，finfo.min 得到均匀分布；fp16 下 −1e9 变成 {fp16_cast}。",
            en=f"Adding −∞/−1e9/finfo.min: padding gets weight 0 and rows sum to 1; masking after the softmax: rows sum to {after_sum:.3f} on average. A fully masked row gives NaN with −∞ and a uniform row with finfo.min; in fp16, −1e9 becomes {fp16_cast}.",
        ),
        scalars=[
            Scalar(
                key="pad_weight_inf",
                label=L(zh="−∞：padding 上的最大权重", en="−inf: max weight on padding"),
                value=rows[0][1],
            ),
            Scalar(
                key="row_sum_min_inf",
                label=L(zh="−∞：最小行和", en="−inf: smallest row sum"),
                value=rows[0][2],
            ),
            Scalar(
                key="row_sum_after_softmax",
                label=L(zh="softmax 后乘掩码：平均行和", en="mask after softmax: mean row sum"),
                value=after_sum,
            ),
            Scalar(
                key="fully_masked_nan_with_inf",
                label=L(zh="整行屏蔽 + −∞ 得到 NaN", en="fully masked row + −inf gives NaN"),
                value=nan_inf,
            ),
            Scalar(
                key="fully_masked_uniform_with_finfo_min",
                label=L(
                    zh="整行屏蔽 + finfo.min 得到均匀分布",
                    en="fully masked row + finfo.min is uniform",
                ),
                value=bool(
                    torch.allclose(uniform_min, torch.full_like(uniform_min, 1 / p.seq_len))
                ),
            ),
            Scalar(
                key="fp16_minus_1e9",
                label=L(zh="−1e9 转为 fp16", en="−1e9 cast to fp16"),
                value=str(fp16_cast),
            ),
            Scalar(
                key="fp16_masked_fill_minus_1e9",
                label=L(zh="fp16 张量 masked_fill(−1e9)", en="masked_fill(−1e9) on an fp16 tensor"),
                value=_fp16_minus_1e9(),
            ),
            Scalar(
                key="fp16_finfo_min",
                label=L(zh="fp16 的 finfo.min", en="fp16 finfo.min"),
                value=torch.finfo(torch.float16).min,
            ),
        ],
        tables=[
            Table(
                title=L(zh="各写法对比", en="Methods compared"),
                columns=["method", "max weight on padding", "min row sum", "max row sum", "NaN"],
                rows=rows,
            )
        ],
        heatmaps=[
            Heatmap(
                title=L(
                    zh="加 −∞ 后的注意力权重（行 = query，列 = key）",
                    en="Weights with −inf (rows = queries, columns = keys)",
                ),
                matrix=[[None if math.isnan(v) else v for v in row] for row in inf_w.tolist()],
                col_labels=[("pad" if pad[j] else str(j)) for j in range(p.seq_len)],
            ),
            Heatmap(
                title=L(zh="softmax 之后乘掩码", en="Masked after the softmax"),
                matrix=methods["mask after softmax"].tolist(),
                col_labels=[("pad" if pad[j] else str(j)) for j in range(p.seq_len)],
            ),
        ],
    )
