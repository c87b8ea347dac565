"""Q19: inverted dropout zeros ≈ p of the units in training and scales the rest by 1/(1−p), so the
expected activation is unchanged; in eval mode it is exactly the identity."""

from __future__ import annotations

from pydantic import Field

from app.bank.models import Localized as L
from app.demos import (
    Chart,
    DemoParams,
    DemoResult,
    Scalar,
    Series,
    Table,
    register,
    seeded_global_rng,
)
from app.demos._lazy import nn, torch


class Params(DemoParams):
    p: float = Field(
        0.1, ge=0.0, le=0.9, description="Drop probability (the paper's P_drop = 0.1)."
    )
    n: int = Field(100_000, ge=100, le=2_000_000, description="Units in the test activation.")


@register(
    "dropout-train-eval",
    title=L(zh="Dropout：训练与推理", en="Dropout in train vs eval"),
    description=L(
        zh="训练时 nn.Dropout 以概率 p 置零，并把保留的单元乘以 1/(1−p)，期望不变；eval 模式下它原样输出。",
        en="In training nn.Dropout zeros units with probability p and scales the survivors by 1/(1−p), keeping the expectation; in eval mode it passes the input through unchanged.",
    ),
    params=Params,
    serves=("Q19",),
)
def run(p: Params, seed: int) -> DemoResult:
    x = torch.ones(p.n)
    drop = nn.Dropout(p.p)
    with seeded_global_rng(seed), torch.no_grad():
        y_train = drop.train()(x)
        y_eval = drop.eval()(x)
        sweep = []
        for q in (0.0, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9):
            yq = nn.Dropout(q).train()(x)
            sweep.append((q, (yq == 0).float().mean().item(), yq.mean().item()))
    kept = y_train[y_train != 0]
    zero_frac = (y_train == 0).float().mean().item()
    scale = kept.mean().item() if kept.numel() else 0.0
    eval_diff = (y_eval - x).abs().max().item()
    return DemoResult(
        conclusion=L(
            zh=f"训练：{zero_frac:.1%} 被置零（p={p.p}），保留的乘以 {scale:.4f} = 1/(1−p)，均值 {y_train.mean().item():.4f} ≈ 1；eval：与输入的最大差 {eval_diff:g}。",
            en=f"Train: {zero_frac:.1%} zeroed (p={p.p}), survivors scaled by {scale:.4f} = 1/(1−p), mean {y_train.mean().item():.4f} ≈ 1; eval: max diff from the input {eval_diff:g}.",
        ),
        scalars=[
            Scalar(
                key="zero_fraction",
                label=L(zh="被置零的比例", en="fraction zeroed"),
                value=zero_frac,
            ),
            Scalar(
                key="kept_scale", label=L(zh="保留单元的值", en="value of a kept unit"), value=scale
            ),
            Scalar(key="expected_scale", label=L(zh="1/(1−p)", en="1/(1−p)"), value=1 / (1 - p.p)),
            Scalar(
                key="train_mean",
                label=L(zh="训练输出均值", en="train output mean"),
                value=y_train.mean().item(),
            ),
            Scalar(
                key="eval_max_diff",
                label=L(zh="eval 输出与输入的最大差", en="eval: max |output − input|"),
                value=eval_diff,
            ),
        ],
        charts=[
            Chart(
                title=L(
                    zh="不同 p 下：置零比例与输出均值",
                    en="Across p: fraction zeroed and output mean",
                ),
                x_label="p (drop probability)",
                y_label="fraction zeroed / output mean",
                series=[
                    Series(
                        name="fraction zeroed", x=[s[0] for s in sweep], y=[s[1] for s in sweep]
                    ),
                    Series(
                        name="mean output (input 1)",
                        x=[s[0] for s in sweep],
                        y=[s[2] for s in sweep],
                    ),
                ],
            )
        ],
        tables=[
            Table(
                title=L(zh="训练 vs 推理", en="Train vs eval"),
                columns=["mode", "zeros", "kept value", "mean"],
                rows=[
                    [
                        "train",
                        round(zero_frac, 4),
                        round(scale, 4),
                        round(y_train.mean().item(), 4),
                    ],
                    ["eval", 0.0, 1.0, round(y_eval.mean().item(), 4)],
                ],
            )
        ],
    )
