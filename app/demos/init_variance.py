"""Initialisation: activation scale through a deep stack under Xavier, Kaiming and PyTorch's
default, the defaults PyTorch really applies (read from live modules), and how ``nn.Transformer``
overrides them."""

from __future__ import annotations

import math
from typing import Literal

from pydantic import Field

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
from app.demos._lazy import nn, torch

INITS = ("xavier", "kaiming", "pytorch-default")


class Params(DemoParams):
    n_layers: int = Field(20, ge=2, le=50, description="Linear layers in the stack.")
    width: int = Field(256, ge=16, le=512, description="Units per layer (fan_in = fan_out).")
    activation: Literal["relu", "tanh"] = Field(
        "relu", description="Non-linearity after each layer."
    )
    batch: int = Field(256, ge=16, le=512, description="Inputs pushed through, x ~ N(0, 1).")


def _weights(init: str, p: Params, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    n = p.width
    if init == "xavier":  # Glorot normal, gain 1: Var = 2 / (fan_in + fan_out)
        return torch.randn(n, n, generator=g) * math.sqrt(2 / (n + n)), torch.zeros(n)
    if init == "kaiming":  # He normal, fan_in mode: Var = gain² / fan_in
        gain = math.sqrt(2.0) if p.activation == "relu" else 5 / 3
        return torch.randn(n, n, generator=g) * gain / math.sqrt(n), torch.zeros(n)
    # nn.Linear: kaiming_uniform_(a=√5) = U(±1/√fan_in) for the weight, the same bound for the bias.
    bound = 1 / math.sqrt(n)
    w = (torch.rand(n, n, generator=g) * 2 - 1) * bound
    b = (torch.rand(n, generator=g) * 2 - 1) * bound
    return w, b


def _live_defaults(seed: int) -> list[list]:
    with seeded_global_rng(seed), torch.no_grad():
        lin = nn.Linear(256, 128)
        emb = nn.Embedding(1000, 64)
        ln = nn.LayerNorm(64)
        mha = nn.MultiheadAttention(64, 8)
    rows = []

    def row(name: str, t: torch.Tensor, expected: str) -> None:
        t = t.detach().float()
        rows.append(
            [
                name,
                round(t.min().item(), 4),
                round(t.max().item(), 4),
                round(t.mean().item(), 4),
                round(t.std().item(), 4),
                expected,
            ]
        )

    row(
        "Linear(256→128).weight",
        lin.weight,
        f"U(±1/√256) = U(±{1 / 16:.4f}), std {1 / 16 / math.sqrt(3):.4f}",
    )
    row("Linear(256→128).bias", lin.bias, f"U(±1/√256) = U(±{1 / 16:.4f})")
    row("Embedding(1000, 64).weight", emb.weight, "N(0, 1)")
    row("LayerNorm(64).weight", ln.weight, "all 1")
    row("LayerNorm(64).bias", ln.bias, "all 0")
    row(
        "MHA(64, 8).in_proj_weight (192×64)",
        mha.in_proj_weight,
        f"xavier_uniform U(±√(6/(64+192))) = U(±{math.sqrt(6 / 256):.4f})",
    )
    row("MHA(64, 8).in_proj_bias", mha.in_proj_bias, "all 0")
    row(
        "MHA(64, 8).out_proj.weight",
        mha.out_proj.weight,
        f"nn.Linear default U(±1/√64) = U(±{1 / 8:.4f})",
    )
    row("MHA(64, 8).out_proj.bias", mha.out_proj.bias, "all 0")
    return rows


# A small but real nn.Transformer: the override is the same at any size, and the full 512-wide,
# 6 + 6 layer default would build 44M parameters on every run of the demo.
D_MODEL, D_FF, N_HEAD = 64, 256, 4


def _transformer_override(seed: int) -> tuple[float, float, list[list]]:
    """The FFN's second Linear (fan_in d_ff, fan_out d_model) inside ``nn.Transformer`` and inside
    a standalone ``nn.TransformerEncoderLayer``: ``nn.Transformer._reset_parameters`` re-draws every
    parameter with ``dim() > 1`` by ``xavier_uniform_``; a layer built alone keeps nn.Linear's."""
    with seeded_global_rng(seed), torch.no_grad():
        model = nn.Transformer(
            d_model=D_MODEL,
            nhead=N_HEAD,
            num_encoder_layers=1,
            num_decoder_layers=1,
            dim_feedforward=D_FF,
            batch_first=True,
        )
        alone = nn.TransformerEncoderLayer(D_MODEL, N_HEAD, D_FF, batch_first=True)
    inside = model.encoder.layers[0].linear2.weight.std().item()
    standalone = alone.linear2.weight.std().item()
    xavier = math.sqrt(2 / (D_FF + D_MODEL))  # std of U(±√(6/(fan_in+fan_out)))
    default = 1 / math.sqrt(D_FF) / math.sqrt(3)  # std of U(±1/√fan_in)
    name = f"linear2.weight ({D_MODEL}×{D_FF})"
    rows = [
        [f"nn.Transformer → encoder.layers[0].{name}", round(inside, 4), round(xavier, 4)],
        [f"TransformerEncoderLayer alone → {name}", round(standalone, 4), round(default, 4)],
    ]
    return inside, standalone, rows


@register(
    "init-variance",
    title=L(zh="初始化与逐层方差", en="Initialisation and activation variance"),
    description=L(
        zh="同一个深层 MLP 分别用 Xavier、Kaiming 和 PyTorch 默认初始化，逐层看激活的标准差；并读出 nn.Linear / Embedding / LayerNorm / MultiheadAttention 的真实默认初始化，以及 nn.Transformer 如何用 Xavier 重新初始化其中的 Linear 权重。",
        en="One deep MLP under Xavier, Kaiming and PyTorch's default init: the activation std layer by layer; plus the real default init of nn.Linear / Embedding / LayerNorm / MultiheadAttention, read from live modules, and how nn.Transformer re-initialises its Linear weights with Xavier.",
    ),
    params=Params,
    serves=("init",),
)
def run(p: Params, seed: int) -> DemoResult:
    g = generator(seed)
    x0 = torch.randn(p.batch, p.width, generator=g)
    act = torch.relu if p.activation == "relu" else torch.tanh
    layers = list(range(0, p.n_layers + 1))
    curves: dict[str, list[float]] = {}
    with torch.no_grad():
        for init in INITS:
            x, stds = x0, [x0.std().item()]
            for _ in range(p.n_layers):
                w, b = _weights(init, p, g)
                x = act(x @ w.T + b)
                stds.append(x.std().item())
            curves[init] = stds
    final = {k: v[-1] for k, v in curves.items()}
    ratio = {k: v[-1] / v[1] for k, v in curves.items()}
    best = max(INITS, key=lambda k: min(ratio[k], 1 / ratio[k]) if ratio[k] > 0 else 0)
    inside, standalone, override_rows = _transformer_override(seed)
    return DemoResult(
        conclusion=L(
            zh=f"{p.activation}、{p.n_layers} 层后激活标准差：Xavier {final['xavier']:.3g}，Kaiming {final['kaiming']:.3g}，PyTorch 默认 {final['pytorch-default']:.3g}；保持得最稳的是 {best}。同一个 FFN 权重在 nn.Transformer 里的标准差是 {inside:.4f}（Xavier），单独建的编码器层里是 {standalone:.4f}（nn.Linear 默认）。",
            en=f"Activation std after {p.n_layers} {p.activation} layers: Xavier {final['xavier']:.3g}, Kaiming {final['kaiming']:.3g}, PyTorch default {final['pytorch-default']:.3g}; {best} keeps it steadiest. The same FFN weight has std {inside:.4f} inside nn.Transformer (Xavier) and {standalone:.4f} in an encoder layer built alone (nn.Linear's default).",
        ),
        scalars=[
            *(
                Scalar(
                    key=f"final_std_{k}",
                    label=L(zh=f"{k}：末层标准差", en=f"{k}: last-layer std"),
                    value=v,
                )
                for k, v in final.items()
            ),
            *(
                Scalar(
                    key=f"ratio_{k}",
                    label=L(zh=f"{k}：末层 / 第 1 层", en=f"{k}: last / first layer"),
                    value=v,
                )
                for k, v in ratio.items()
            ),
            Scalar(
                key="transformer_linear_std",
                label=L(
                    zh="nn.Transformer 内 FFN linear2 权重的标准差",
                    en="std of the FFN's linear2 weight inside nn.Transformer",
                ),
                value=inside,
            ),
            Scalar(
                key="standalone_layer_linear_std",
                label=L(
                    zh="单独的 TransformerEncoderLayer 中同一权重的标准差",
                    en="std of the same weight in a standalone TransformerEncoderLayer",
                ),
                value=standalone,
            ),
        ],
        charts=[
            Chart(
                title=L(zh="逐层激活标准差", en="Activation std per layer"),
                x_label="layer",
                y_label="std",
                log_y=True,
                series=[Series(name=k, x=layers, y=v) for k, v in curves.items()],
            )
        ],
        tables=[
            Table(
                title=L(
                    zh="PyTorch 真实默认初始化（活的模块）",
                    en="PyTorch's real default init (live modules)",
                ),
                columns=["parameter", "min", "max", "mean", "std", "expected"],
                rows=_live_defaults(seed),
            ),
            Table(
                title=L(
                    zh="nn.Transformer 用 xavier_uniform_ 覆盖默认初始化（_reset_parameters）",
                    en="nn.Transformer overrides the defaults with xavier_uniform_ (_reset_parameters)",
                ),
                columns=["parameter", "std", "expected std"],
                rows=override_rows,
            ),
        ],
    )
