"""RMSNorm vs LayerNorm (Zhang & Sennrich 2019, "Root Mean Square Layer Normalization", §3-4).
LayerNorm subtracts each token's mean and divides by its standard deviation; RMSNorm only divides
by the root mean square, x / √(mean(x²) + ε) · g. On a zero-mean input the two are the same
function; add a common offset and LayerNorm removes it while RMSNorm keeps it. torch.nn.RMSNorm
(torch/nn/modules/normalization.py) computes the hand formula; it has d parameters to
LayerNorm's 2d and one reduction over the features instead of two."""

from __future__ import annotations

from pydantic import Field

from app.bank.models import Localized as L
from app.demos import Chart, DemoParams, DemoResult, Scalar, Series, Table, generator, register
from app.demos._lazy import F, nn, torch


class Params(DemoParams):
    d_model: int = Field(64, ge=2, le=4096, description="Features per token (d).")
    tokens: int = Field(16, ge=1, le=256, description="Tokens normalised.")
    offset: float = Field(
        3.0, ge=0.0, le=100.0, description="Common offset added to every feature."
    )
    std: float = Field(1.0, ge=0.01, le=100.0, description="Spread of the features around it.")
    eps: float = Field(1e-5, ge=1e-8, le=1e-2, description="ε inside the square root (both norms).")


SWEEP = 41


def rms_norm(x: torch.Tensor, eps: float, gain: torch.Tensor | None = None) -> torch.Tensor:
    """x / √(mean(x²) + ε) · g: no mean subtracted, no bias."""
    y = x / torch.sqrt(x.pow(2).mean(-1, keepdim=True) + eps)
    return y if gain is None else y * gain


def layer_norm(x: torch.Tensor, eps: float) -> torch.Tensor:
    return F.layer_norm(x, x.shape[-1:], eps=eps)


@register(
    "rmsnorm-vs-layernorm",
    title=L(zh="RMSNorm 与 LayerNorm", en="RMSNorm vs LayerNorm"),
    description=L(
        zh="同一批输入分别过 RMSNorm（x/rms(x)·g）和 LayerNorm：输入均值为 0 时两者完全相同；给所有特征加一个偏移，LayerNorm 把它减掉，RMSNorm 保留。torch.nn.RMSNorm 与手写公式一致；参数和计算量各少一份。",
        en="The same inputs through RMSNorm (x/rms(x)·g) and LayerNorm: on zero-mean input the two agree; add an offset to every feature and LayerNorm removes it while RMSNorm keeps it. torch.nn.RMSNorm matches the hand formula; one parameter vector and one reduction fewer.",
    ),
    params=Params,
    serves=("norm-at-depth", "normalization"),
)
def run(p: Params, seed: int) -> DemoResult:
    g = generator(seed)
    raw = torch.randn(p.tokens, p.d_model, generator=g) * p.std
    centred = raw - raw.mean(-1, keepdim=True)  # each token's mean exactly removed
    shifted = centred + p.offset

    same_zero_mean = (rms_norm(centred, p.eps) - layer_norm(centred, p.eps)).abs().max().item()
    ln_shift = (layer_norm(shifted, p.eps) - layer_norm(centred, p.eps)).abs().max().item()
    rms_shift = (rms_norm(shifted, p.eps) - rms_norm(centred, p.eps)).abs().max().item()
    rms_out_mean = rms_norm(shifted, p.eps).mean().item()
    ln_out_mean = layer_norm(shifted, p.eps).mean().item()

    # torch.nn.RMSNorm with a non-trivial gain against the formula.
    module = nn.RMSNorm(p.d_model, eps=p.eps)
    gain = 1 + 0.5 * torch.randn(p.d_model, generator=g)
    with torch.no_grad():
        module.weight.copy_(gain)
        module_vs_formula = (module(shifted) - rms_norm(shifted, p.eps, gain)).abs().max().item()
    ln_params = sum(q.numel() for q in nn.LayerNorm(p.d_model).parameters())
    rms_params = sum(q.numel() for q in module.parameters())

    # Output mean against the offset: LayerNorm's stays 0; RMSNorm's follows c/√(c² + σ²),
    # σ² being the tokens' own mean square around their mean.
    top = max(10.0, 2 * p.offset) * p.std
    cs = [top * i / (SWEEP - 1) for i in range(SWEEP)]
    var = centred.pow(2).mean(-1)
    ln_means, rms_means, theory = [], [], []
    for c in cs:
        ln_means.append(layer_norm(centred + c, p.eps).mean().item())
        rms_means.append(rms_norm(centred + c, p.eps).mean().item())
        theory.append((c / torch.sqrt(c * c + var + p.eps)).mean().item())

    return DemoResult(
        conclusion=L(
            zh=(
                f"均值为 0 的输入：RMSNorm 与 LayerNorm 输出最大差 {same_zero_mean:.1g}（只剩浮点舍入）。每个特征加 {p.offset:g} 后，LayerNorm 输出变化 {ln_shift:.1g}，偏移被减掉；"
                f"RMSNorm 输出变化 {rms_shift:.3g}，输出均值从 0 变为 {rms_out_mean:.3f}。torch.nn.RMSNorm 与 x/√(mean(x²)+ε)·g 最大差 {module_vs_formula:.1g}；参数 {rms_params} 个对 LayerNorm 的 {ln_params} 个。"
            ),
            en=(
                f"On zero-mean input RMSNorm and LayerNorm differ by at most {same_zero_mean:.1g} (float rounding). Adding {p.offset:g} to every feature moves LayerNorm's output by {ln_shift:.1g}: the offset is removed; "
                f"it moves RMSNorm's by {rms_shift:.3g}, its output mean going from 0 to {rms_out_mean:.3f}. torch.nn.RMSNorm matches x/√(mean(x²)+ε)·g to {module_vs_formula:.1g}; it has {rms_params} parameters to LayerNorm's {ln_params}."
            ),
        ),
        scalars=[
            Scalar(
                key="zero_mean_diff",
                label=L(zh="均值为 0 时两者之差", en="difference on zero-mean input"),
                value=same_zero_mean,
            ),
            Scalar(
                key="layernorm_shift_change",
                label=L(zh="加偏移后 LayerNorm 输出变化", en="LayerNorm change from the offset"),
                value=ln_shift,
            ),
            Scalar(
                key="rmsnorm_shift_change",
                label=L(zh="加偏移后 RMSNorm 输出变化", en="RMSNorm change from the offset"),
                value=rms_shift,
            ),
            Scalar(
                key="layernorm_output_mean",
                label=L(zh="加偏移后 LayerNorm 输出均值", en="LayerNorm output mean, offset input"),
                value=ln_out_mean,
            ),
            Scalar(
                key="rmsnorm_output_mean",
                label=L(zh="加偏移后 RMSNorm 输出均值", en="RMSNorm output mean, offset input"),
                value=rms_out_mean,
            ),
            Scalar(
                key="module_vs_formula",
                label=L(zh="nn.RMSNorm 与公式之差", en="nn.RMSNorm vs the formula"),
                value=module_vs_formula,
            ),
            Scalar(
                key="layernorm_params",
                label=L(zh="LayerNorm 参数", en="LayerNorm parameters"),
                value=ln_params,
            ),
            Scalar(
                key="rmsnorm_params",
                label=L(zh="RMSNorm 参数", en="RMSNorm parameters"),
                value=rms_params,
            ),
        ],
        tables=[
            Table(
                title=L(
                    zh=f"每个 token（d = {p.d_model}）要做的事",
                    en=f"Work per token (d = {p.d_model})",
                ),
                columns=["", "LayerNorm", "RMSNorm"],
                rows=[
                    ["statistics", "mean, then variance around it", "mean of squares"],
                    ["reductions over d", 2, 1],
                    ["subtract the mean", "yes", "no"],
                    ["learned vectors", "gain γ, bias β", "gain g"],
                    ["parameters (counted)", ln_params, rms_params],
                    ["invariant to adding c to every feature", "yes", "no"],
                    ["invariant to scaling x by c > 0", "yes (up to ε)", "yes (up to ε)"],
                ],
            )
        ],
        charts=[
            Chart(
                title=L(
                    zh="输出均值随输入偏移：LayerNorm 恒为 0，RMSNorm 趋向 1",
                    en="Output mean by input offset: LayerNorm stays at 0, RMSNorm tends to 1",
                ),
                x_label="offset c added to every feature",
                y_label="mean of the normalised output",
                series=[
                    Series(name="LayerNorm", x=cs, y=ln_means),
                    Series(name="RMSNorm", x=cs, y=rms_means),
                    Series(name="c / √(c² + σ²)", x=cs, y=theory),
                ],
            )
        ],
    )
