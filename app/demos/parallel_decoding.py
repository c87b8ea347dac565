"""Q17: with a causal mask, one teacher-forced pass over the whole target gives the same outputs
as decoding step by step (prefix ≤ t at step t); the one pass does far less work."""

from __future__ import annotations

import time

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
    n: int = Field(16, ge=2, le=64, description="Target length.")
    src_len: int = Field(12, ge=1, le=64, description="Source (encoder memory) length.")
    d_model: int = Field(32, ge=8, le=256, description="Model width.")
    heads: int = Field(4, ge=1, le=8, description="Attention heads (must divide d_model).")
    n_layers: int = Field(2, ge=1, le=4, description="Decoder layers.")

    @model_validator(mode="after")
    def _heads_divide(self) -> Params:
        if self.d_model % self.heads:
            raise ValueError(f"heads ({self.heads}) must divide d_model ({self.d_model})")
        return self


@register(
    "parallel-decoding",
    title=L(zh="训练时解码器为什么能并行", en="Why the decoder trains in parallel"),
    description=L(
        zh="带因果掩码的解码器：整句目标一次前向（teacher forcing）得到的每个位置的输出，与逐步解码（第 t 步只输入前 t 个 token）的结果相同；一次前向的工作量少得多。",
        en="A decoder with a causal mask: one teacher-forced pass over the whole target gives the same output at every position as decoding step by step (step t sees only the first t tokens), with far less work.",
    ),
    params=Params,
    serves=("Q17",),
)
def run(p: Params, seed: int) -> DemoResult:
    with seeded_global_rng(seed):
        layer = nn.TransformerDecoderLayer(
            p.d_model, p.heads, dim_feedforward=4 * p.d_model, dropout=0.0, batch_first=True
        )
        decoder = nn.TransformerDecoder(layer, p.n_layers).eval()
    g = generator(seed)
    tgt = torch.randn(1, p.n, p.d_model, generator=g)
    memory = torch.randn(1, p.src_len, p.d_model, generator=g)
    with torch.no_grad():
        t0 = time.perf_counter()
        mask = nn.Transformer.generate_square_subsequent_mask(p.n)
        full = decoder(tgt, memory, tgt_mask=mask, tgt_is_causal=True)
        t_full = (time.perf_counter() - t0) * 1000
        t0 = time.perf_counter()
        steps = []
        for t in range(1, p.n + 1):
            m = nn.Transformer.generate_square_subsequent_mask(t)
            steps.append(decoder(tgt[:, :t], memory, tgt_mask=m, tgt_is_causal=True)[:, -1])
        t_steps = (time.perf_counter() - t0) * 1000
    stepwise = torch.stack(steps, dim=1)
    per_pos = (full - stepwise).abs()[0].amax(-1)
    max_diff = per_pos.max().item()
    positions_one_pass = p.n
    positions_stepwise = p.n * (p.n + 1) // 2  # without a KV cache every step recomputes its prefix
    return DemoResult(
        conclusion=L(
            zh=f"一次前向与逐步解码的最大差 {max_diff:.1e}（浮点误差内相同）；一次前向计算 {positions_one_pass} 个位置、1 次调用，逐步解码 {positions_stepwise} 个位置、{p.n} 次调用；实测 {t_full:.1f} ms 对 {t_steps:.1f} ms。",
            en=f"One pass vs step by step: max difference {max_diff:.1e} (equal up to float error); one pass computes {positions_one_pass} positions in 1 call, stepping computes {positions_stepwise} positions in {p.n} calls; measured {t_full:.1f} ms vs {t_steps:.1f} ms.",
        ),
        scalars=[
            Scalar(
                key="max_abs_diff",
                label=L(zh="两种方式输出的最大差", en="max |one pass − step by step|"),
                value=max_diff,
            ),
            Scalar(
                key="forward_calls_one_pass",
                label=L(zh="一次前向：调用次数", en="one pass: forward calls"),
                value=1,
            ),
            Scalar(
                key="forward_calls_stepwise",
                label=L(zh="逐步：调用次数", en="step by step: forward calls"),
                value=p.n,
            ),
            Scalar(
                key="positions_one_pass",
                label=L(zh="一次前向：计算的位置数", en="one pass: positions computed"),
                value=positions_one_pass,
            ),
            Scalar(
                key="positions_stepwise",
                label=L(
                    zh="逐步（无 KV 缓存）：计算的位置数",
                    en="step by step (no KV cache): positions computed",
                ),
                value=positions_stepwise,
            ),
            Scalar(
                key="time_ratio",
                label=L(
                    zh="实测时间比（逐步/一次）", en="measured time ratio (stepwise / one pass)"
                ),
                value=t_steps / max(t_full, 1e-9),
            ),
        ],
        charts=[
            Chart(
                title=L(zh="每个位置的差异", en="Difference per position"),
                kind="bar",
                x_label="position",
                y_label="max |Δ|",
                series=[
                    Series(name="|one pass − stepwise|", x=list(range(p.n)), y=per_pos.tolist())
                ],
            )
        ],
    )
