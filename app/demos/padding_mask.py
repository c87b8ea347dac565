"""Q5: masking padded keys before the softmax — −inf vs −1e9 vs finfo.min vs masking after the
softmax; a fully masked row, by hand and through PyTorch's attention APIs; fp16 with −1e9 and with
an added finfo.min."""

from __future__ import annotations

import math

from pydantic import Field, model_validator

from app.bank.models import Localized as L
from app.demos import (
    DemoParams,
    DemoResult,
    Heatmap,
    Scalar,
    Table,
    generator,
    register,
    seeded_global_rng,
)
from app.demos._lazy import F, nn, torch


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


MHA_WIDTH = 8


def _fp16_added_finfo_min() -> tuple[float, bool, bool]:
    """An additive mask of finfo.min in fp16: a score of −20 plus it rounds past −65504 to −inf,
    and a causal plus a padding mask (both finfo.min) sum to −inf, so a fully masked row is NaN
    again; masked_fill writes finfo.min exactly, and that row stays uniform."""
    h = torch.float16
    lo = torch.finfo(h).min
    one = (torch.tensor(-20.0, dtype=h) + lo).item()
    row = torch.zeros(1, 4, dtype=h)
    twice = (row + lo + lo).softmax(-1)
    filled = row.masked_fill(torch.ones(1, 4, dtype=torch.bool), lo).softmax(-1)
    return one, bool(torch.isnan(twice).any()), bool(torch.isnan(filled).any())


def _fully_masked_apis(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, seed: int) -> list[list]:
    """A batch of two: the demo's sequence and one that is all padding (every key masked). What
    does each API return for the all-padding sample? Rows: [API, NaN?, max |output|]."""
    n, d = q.shape
    keep = torch.stack([torch.ones(n, dtype=torch.bool), torch.zeros(n, dtype=torch.bool)])
    q2, k2, v2 = (t.expand(2, n, d) for t in (q, k, v))
    bool_mask = keep[:, None, :].expand(2, n, n)  # True = may attend (SDPA's convention)
    float_mask = torch.zeros(2, n, n).masked_fill(~bool_mask, float("-inf"))
    outs = {
        "F.scaled_dot_product_attention, bool mask": F.scaled_dot_product_attention(
            q2, k2, v2, attn_mask=bool_mask
        ),
        "F.scaled_dot_product_attention, float −inf mask": F.scaled_dot_product_attention(
            q2, k2, v2, attn_mask=float_mask
        ),
    }
    # MHA's fast path needs an even head count, so it gets its own small width (not d_k).
    with seeded_global_rng(seed), torch.no_grad():
        mha = nn.MultiheadAttention(MHA_WIDTH, 2, batch_first=True)
        x = torch.randn(2, n, MHA_WIDTH)  # self-attention: query, key and value are one tensor
        pad = ~keep  # True = padding (key_padding_mask's convention, the opposite of SDPA's)
        outs["nn.MultiheadAttention, key_padding_mask (default need_weights=True)"] = mha(
            x, x, x, key_padding_mask=pad
        )[0]
        outs["nn.MultiheadAttention, key_padding_mask, need_weights=False (training)"] = mha(
            x, x, x, key_padding_mask=pad, need_weights=False
        )[0]
        mha.eval()  # eval + no_grad + need_weights=False + self-attention: MHA's fast path
        outs["nn.MultiheadAttention, key_padding_mask, need_weights=False (eval fast path)"] = mha(
            x, x, x, key_padding_mask=pad, need_weights=False
        )[0]
    rows = []
    for name, out in outs.items():
        padded = out[1]
        nan = bool(torch.isnan(padded).any())
        rows.append([name, nan, None if nan else round(padded.abs().max().item(), 6)])
    return rows


@register(
    "padding-mask",
    title=L(zh="padding 掩码的几种写法", en="Ways to mask padding"),
    description=L(
        zh="一条带 padding 的序列：softmax 前加 −∞、−1e9、finfo.min，或 softmax 后乘掩码，各自的权重、行和、整行被屏蔽时的结果（手写、SDPA、nn.MultiheadAttention），以及 fp16 下的表现。",
        en="One padded sequence: adding −∞, −1e9 or finfo.min before the softmax, or multiplying by the mask after it — weights, row sums, a fully masked row (by hand, in SDPA and in nn.MultiheadAttention), and fp16.",
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
    fp16_plus_min, fp16_two_masks_nan, fp16_filled_nan = _fp16_added_finfo_min()
    v = torch.randn(p.seq_len, p.d_k, generator=g)
    api_rows = _fully_masked_apis(q, k, v, seed)
    api = {row[0]: row for row in api_rows}
    sdpa_zero = all(
        not row[1] and row[2] == 0.0 for name, row in api.items() if name.startswith("F.")
    )
    mha_nan = api["nn.MultiheadAttention, key_padding_mask (default need_weights=True)"][1]

    inf_w = methods["−inf"]
    after_sum = methods["mask after softmax"].sum(-1).mean().item()
    return DemoResult(
        conclusion=L(
            zh=f"加 −∞/−1e9/finfo.min：padding 权重为 0、每行和为 1；softmax 后再乘掩码：行和平均只有 {after_sum:.3f}。整行被屏蔽时手写 softmax 加 −∞ 得到 NaN，masked_fill 成 finfo.min 得到均匀分布；SDPA 对整行屏蔽{'返回 0' if sdpa_zero else '不返回 0'}，nn.MultiheadAttention 默认调用{'仍是 NaN' if mha_nan else '不是 NaN'}。fp16 下 −1e9 变成 {fp16_cast}，分数 −20 加上 finfo.min 变成 {fp16_plus_min}。",
            en=f"Adding −∞/−1e9/finfo.min: padding gets weight 0 and rows sum to 1; masking after the softmax: rows sum to {after_sum:.3f} on average. A fully masked row gives NaN in a hand-written softmax with −∞ and a uniform row with masked_fill(finfo.min); SDPA {'returns zeros' if sdpa_zero else 'does not return zeros'} for it, nn.MultiheadAttention's default call {'still gives NaN' if mha_nan else 'gives no NaN'}. In fp16, −1e9 becomes {fp16_cast}, and a score of −20 plus finfo.min becomes {fp16_plus_min}.",
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
            Scalar(
                key="fp16_score_plus_finfo_min",
                label=L(zh="fp16：分数 −20 加 finfo.min", en="fp16: a score of −20 plus finfo.min"),
                value=fp16_plus_min,
            ),
            Scalar(
                key="fp16_two_added_masks_nan",
                label=L(
                    zh="fp16：整行加两次 finfo.min（因果 + padding）得到 NaN",
                    en="fp16: a row with finfo.min added twice (causal + padding) gives NaN",
                ),
                value=fp16_two_masks_nan,
            ),
            Scalar(
                key="fp16_masked_fill_finfo_min_nan",
                label=L(
                    zh="fp16：整行 masked_fill(finfo.min) 得到 NaN",
                    en="fp16: a row masked_fill-ed with finfo.min gives NaN",
                ),
                value=fp16_filled_nan,
            ),
            Scalar(
                key="sdpa_fully_masked_row_zero",
                label=L(
                    zh="SDPA（bool 与 −∞ 掩码）：整行屏蔽输出 0",
                    en="SDPA (bool and −inf masks): a fully masked row outputs 0",
                ),
                value=sdpa_zero,
            ),
            Scalar(
                key="mha_fully_padded_nan",
                label=L(
                    zh="nn.MultiheadAttention 默认调用：全 padding 的样本输出 NaN",
                    en="nn.MultiheadAttention, default call: an all-padding sample outputs NaN",
                ),
                value=mha_nan,
            ),
        ],
        tables=[
            Table(
                title=L(zh="各写法对比", en="Methods compared"),
                columns=["method", "max weight on padding", "min row sum", "max row sum", "NaN"],
                rows=rows,
            ),
            Table(
                title=L(
                    zh="全是 padding 的样本（每个 key 都被屏蔽）：各 API 的输出",
                    en="An all-padding sample (every key masked): what each API returns",
                ),
                columns=["API", "NaN", "max |output|"],
                rows=api_rows,
            ),
        ],
        heatmaps=[
            Heatmap(
                x_label="key position",
                y_label="query position",
                title=L(
                    zh="加 −∞ 后的注意力权重（行 = query，列 = key）",
                    en="Weights with −inf (rows = queries, columns = keys)",
                ),
                matrix=[[None if math.isnan(v) else v for v in row] for row in inf_w.tolist()],
                col_labels=[("pad" if pad[j] else str(j)) for j in range(p.seq_len)],
            ),
            Heatmap(
                x_label="key position",
                y_label="query position",
                title=L(zh="softmax 之后乘掩码", en="Masked after the softmax"),
                matrix=methods["mask after softmax"].tolist(),
                col_labels=[("pad" if pad[j] else str(j)) for j in range(p.seq_len)],
            ),
        ],
    )
