"""Q8: embedding rows under common inits vs the sinusoidal encoding, with and without ×√d_model:
a tied, output-layer-style init (std 1/√d_model) gives rows of norm ≈ 1 against PE's √(d_model/2);
×√d_model brings the embedding's entries to the encoding's scale."""

from __future__ import annotations

import math

from pydantic import Field

from app.bank.models import Localized as L
from app.demos import Chart, DemoParams, DemoResult, Scalar, Series, Table, generator, register
from app.demos._lazy import torch
from app.demos.sinusoidal_pe import sinusoidal

INITS = {
    "N(0, 1/d) (tied, output-style)": lambda v, d, g: torch.randn(v, d, generator=g) / math.sqrt(d),
    "xavier_uniform (V×d)": lambda v, d, g: (
        (torch.rand(v, d, generator=g) * 2 - 1) * math.sqrt(6 / (v + d))
    ),
    "N(0, 1) (nn.Embedding default)": lambda v, d, g: torch.randn(v, d, generator=g),
}


class Params(DemoParams):
    d_model: int = Field(512, ge=8, le=2048, multiple_of=2, description="Model width (even).")
    vocab: int = Field(1000, ge=10, le=5000, description="Vocabulary rows sampled.")
    positions: int = Field(
        100, ge=1, le=2048, description="Positions of the encoding averaged over."
    )


@register(
    "embedding-scale",
    title=L(zh="为什么嵌入要乘 √d_model", en="Why embeddings are scaled by √d_model"),
    description=L(
        zh="比较几种常见初始化下嵌入行的范数和每个元素的大小，与正弦位置编码对比，看乘 √d_model 前后谁大谁小。",
        en="Embedding-row norms and per-entry size under common inits, against the sinusoidal encoding, before and after multiplying by √d_model.",
    ),
    params=Params,
    serves=("Q8",),
)
def run(p: Params, seed: int) -> DemoResult:
    g = generator(seed)
    pe = sinusoidal(p.positions, p.d_model).float()
    pe_norm = pe.norm(dim=-1).mean().item()
    pe_rms = pe.pow(2).mean().sqrt().item()
    scale = math.sqrt(p.d_model)
    rows, ratios = [], {}
    for name, init in INITS.items():
        e = init(p.vocab, p.d_model, g)
        n0 = e.norm(dim=-1).mean().item()
        rms0 = e.pow(2).mean().sqrt().item()
        rows.append(
            [
                name,
                round(rms0, 5),
                round(n0, 3),
                round(rms0 * scale, 4),
                round(n0 * scale, 2),
                round(n0 * scale / pe_norm, 3),
            ]
        )
        ratios[name] = (n0 / pe_norm, n0 * scale / pe_norm)
    rows.append(["sinusoidal PE", round(pe_rms, 4), round(pe_norm, 3), "—", "—", 1.0])
    tied = ratios["N(0, 1/d) (tied, output-style)"]
    default = ratios["N(0, 1) (nn.Embedding default)"]
    widths = [d for d in (64, 128, 256, 512, 1024, 2048) if d <= max(p.d_model, 64)]
    return DemoResult(
        conclusion=L(
            zh=f"d_model={p.d_model}：按 N(0,1/d) 初始化的嵌入范数只有位置编码的 {tied[0]:.3f} 倍，乘 √d_model 后为 {tied[1]:.2f} 倍（同一量级）；若用 nn.Embedding 默认的 N(0,1)，乘完后是 {default[1]:.1f} 倍。",
            en=f"d_model={p.d_model}: an N(0,1/d) embedding has {tied[0]:.3f}× the encoding's norm, {tied[1]:.2f}× after ×√d_model (same scale); with nn.Embedding's default N(0,1) it would be {default[1]:.1f}× after scaling.",
        ),
        scalars=[
            Scalar(key="pe_norm", label=L(zh="位置编码范数", en="encoding norm"), value=pe_norm),
            Scalar(
                key="pe_expected_norm",
                label=L(zh="√(d_model/2)", en="√(d_model/2)"),
                value=math.sqrt(p.d_model / 2),
            ),
            Scalar(
                key="tied_ratio_before",
                label=L(
                    zh="N(0,1/d)：嵌入/PE 范数比（乘前）",
                    en="N(0,1/d): embedding/PE norm ratio (before)",
                ),
                value=tied[0],
            ),
            Scalar(
                key="tied_ratio_after",
                label=L(
                    zh="N(0,1/d)：嵌入/PE 范数比（乘后）",
                    en="N(0,1/d): embedding/PE norm ratio (after)",
                ),
                value=tied[1],
            ),
            Scalar(
                key="default_ratio_after",
                label=L(
                    zh="N(0,1)：嵌入/PE 范数比（乘后）",
                    en="N(0,1): embedding/PE norm ratio (after)",
                ),
                value=default[1],
            ),
        ],
        tables=[
            Table(
                title=L(zh="嵌入与位置编码的量级", en="Embedding vs encoding scale"),
                columns=[
                    "init",
                    "entry rms",
                    "row norm",
                    "entry rms ×√d",
                    "row norm ×√d",
                    "norm ×√d / PE norm",
                ],
                rows=rows,
            )
        ],
        charts=[
            Chart(
                title=L(
                    zh="随 d_model 变化的范数（N(0,1/d) 初始化）",
                    en="Norms as d_model grows (N(0,1/d) init)",
                ),
                x_label="d_model",
                y_label="norm",
                log_x=True,
                log_y=True,
                series=[
                    Series(name="embedding", x=widths, y=[1.0 for _ in widths]),
                    Series(name="embedding ×√d", x=widths, y=[math.sqrt(d) for d in widths]),
                    Series(
                        name="sinusoidal PE √(d/2)", x=widths, y=[math.sqrt(d / 2) for d in widths]
                    ),
                ],
            )
        ],
    )
