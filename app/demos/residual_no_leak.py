"""Q20: a full decoder stack (masked self-attention, residuals, LayerNorm, FFN): outputs at
positions ≤ t do not change when tokens after t change — the residual path leaks nothing."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from app.bank.models import Localized as L
from app.demos import (
    Chart,
    DemoParams,
    DemoResult,
    Scalar,
    Series,
    generator,
    register,
    seeded_global_rng,
)
from app.demos._lazy import nn, torch


class Params(DemoParams):
    n: int = Field(10, ge=2, le=64, description="Sequence length.")
    d_model: int = Field(32, ge=4, le=256, description="Model width.")
    heads: int = Field(4, ge=1, le=8, description="Attention heads (must divide d_model).")
    n_layers: int = Field(2, ge=1, le=6, description="Decoder layers stacked.")
    t: int = Field(4, ge=0, le=62, description="Change every token after position t.")
    norm: Literal["post", "pre"] = Field("post", description="Post-LN (the paper) or Pre-LN.")

    @model_validator(mode="after")
    def _valid(self) -> Params:
        if self.d_model % self.heads:
            raise ValueError(f"heads ({self.heads}) must divide d_model ({self.d_model})")
        if self.t >= self.n - 1:
            raise ValueError(f"t ({self.t}) must be below n − 1 ({self.n - 1})")
        return self


@register(
    "residual-no-leak",
    title=L(zh="残差不会泄露未来信息", en="The residual path leaks nothing"),
    description=L(
        zh="用 PyTorch 的解码器层（掩码自注意力 + 残差 + LayerNorm + FFN）堆几层：换掉位置 t 之后的 token，≤ t 的输出不变；去掉掩码则会变。",
        en="A stack of PyTorch decoder layers (masked self-attention + residual + LayerNorm + FFN): replace the tokens after t and the outputs at ≤ t stay the same; drop the mask and they change.",
    ),
    params=Params,
    serves=("Q20",),
)
def run(p: Params, seed: int) -> DemoResult:
    with seeded_global_rng(seed):
        layer = nn.TransformerEncoderLayer(
            p.d_model,
            p.heads,
            dim_feedforward=4 * p.d_model,
            dropout=0.0,
            batch_first=True,
            norm_first=p.norm == "pre",
        )  # self-attention + FFN, each with residual and LayerNorm: a decoder-only block
        stack = nn.TransformerEncoder(layer, p.n_layers, enable_nested_tensor=False).eval()
    g = generator(seed)
    x = torch.randn(1, p.n, p.d_model, generator=g)
    x2 = x.clone()
    x2[:, p.t + 1 :] = torch.randn(1, p.n - p.t - 1, p.d_model, generator=g)
    causal = nn.Transformer.generate_square_subsequent_mask(p.n)
    with torch.no_grad():
        y, y2 = stack(x, mask=causal, is_causal=True), stack(x2, mask=causal, is_causal=True)
        z, z2 = stack(x), stack(x2)
    d_mask = (y - y2).abs()[0].amax(-1)
    d_none = (z - z2).abs()[0].amax(-1)
    past = slice(0, p.t + 1)
    leak = d_mask[past].max().item()
    unmasked = d_none[past].max().item()
    positions = list(range(p.n))
    return DemoResult(
        conclusion=L(
            zh=f"{p.n_layers} 层（{p.norm}-LN）：换掉位置 {p.t} 之后的 token，位置 0..{p.t} 的输出最大变化 {leak:g}（有因果掩码）对 {unmasked:.3g}（无掩码）。",
            en=f"{p.n_layers} layers ({p.norm}-LN): replacing the tokens after {p.t}, outputs 0..{p.t} change by at most {leak:g} with the causal mask vs {unmasked:.3g} without.",
        ),
        scalars=[
            Scalar(
                key="max_change_past_masked",
                label=L(zh="有掩码：≤ t 的最大变化", en="masked: max change at ≤ t"),
                value=leak,
            ),
            Scalar(
                key="max_change_past_unmasked",
                label=L(zh="无掩码：≤ t 的最大变化", en="unmasked: max change at ≤ t"),
                value=unmasked,
            ),
            Scalar(
                key="max_change_future_masked",
                label=L(zh="有掩码：> t 的最大变化", en="masked: max change after t"),
                value=d_mask[p.t + 1 :].max().item(),
            ),
        ],
        charts=[
            Chart(
                title=L(zh="每个位置的输出变化", en="Output change per position"),
                kind="bar",
                x_label="position",
                y_label="max |Δ|",
                series=[
                    Series(name="causal mask", x=positions, y=d_mask.tolist()),
                    Series(name="no mask", x=positions, y=d_none.tolist()),
                ],
            )
        ],
    )
