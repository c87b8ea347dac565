"""Q3: dot-product vs additive (Bahdanau) scoring as d_k grows: parameters, multiply-adds,
intermediate memory and measured time."""

from __future__ import annotations

import math
import time

from pydantic import Field

from app.bank.models import Localized as L
from app.demos import Chart, DemoParams, DemoResult, Scalar, Series, Table, generator, register
from app.demos._lazy import torch


class Params(DemoParams):
    n: int = Field(64, ge=2, le=128, description="Queries and keys (n × n scores).")
    max_d_k: int = Field(256, ge=4, le=512, description="Largest d_k in the sweep.")
    hidden_ratio: float = Field(
        1.0, ge=0.25, le=2.0, description="Additive hidden size d_a as a multiple of d_k."
    )
    repeats: int = Field(3, ge=1, le=5, description="Timing repetitions (the median is shown).")


def costs(n: int, d_k: int, d_a: int) -> dict[str, int]:
    """Deterministic cost model: parameters, multiply-adds and the largest intermediate tensor."""
    return {
        "dot_params": 0,
        "add_params": 2 * d_k * d_a + d_a,
        "dot_madds": n * n * d_k,
        # W_q q and W_k k once per vector, then for every pair: add, tanh, and the v· product.
        "add_madds": 2 * n * d_k * d_a + n * n * d_a,
        "add_tanh": n * n * d_a,
        "dot_intermediate": n * n,
        "add_intermediate": n * n * d_a,
    }


def _median_ms(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return sorted(times)[len(times) // 2]


@register(
    "dot-vs-additive",
    title=L(zh="点积注意力 vs 加性注意力", en="Dot-product vs additive attention"),
    description=L(
        zh="同样 n×n 个分数：点积是一次矩阵乘法、无参数；加性注意力要为每一对位置算一个 d_a 维的隐藏向量和 tanh。比较参数、乘加次数、中间张量和实测时间。",
        en="The same n×n scores: the dot product is one matrix multiply with no parameters; additive attention computes a d_a-wide hidden vector and a tanh for every pair. Parameters, multiply-adds, intermediate memory and measured time.",
    ),
    params=Params,
    serves=("Q3",),
)
def run(p: Params, seed: int) -> DemoResult:
    g = generator(seed)
    sweep = [d for d in (2**i for i in range(2, 10)) if d <= p.max_d_k]
    rows, t_dot, t_add, mem_ratio = [], [], [], []
    with torch.no_grad():
        for d in sweep:
            d_a = max(1, round(p.hidden_ratio * d))
            q = torch.randn(p.n, d, generator=g)
            k = torch.randn(p.n, d, generator=g)
            w_q = torch.randn(d, d_a, generator=g) / math.sqrt(d)
            w_k = torch.randn(d, d_a, generator=g) / math.sqrt(d)
            v = torch.randn(d_a, generator=g) / math.sqrt(d_a)

            def dot(q=q, k=k, d=d):
                return q @ k.T / math.sqrt(d)

            def additive(q=q, k=k, w_q=w_q, w_k=w_k, v=v):
                # tanh in place: the n×n×d_a hidden tensor exists once, not twice (the costs
                # above count it once; at the largest corner it is 64 MB).
                return torch.tanh_((q @ w_q)[:, None, :] + (k @ w_k)[None, :, :]) @ v

            dot()
            additive()  # warm-up
            td, ta = _median_ms(dot, p.repeats), _median_ms(additive, p.repeats)
            c = costs(p.n, d, d_a)
            rows.append(
                [
                    d,
                    d_a,
                    c["add_params"],
                    c["dot_madds"],
                    c["add_madds"],
                    c["add_intermediate"],
                    round(td, 3),
                    round(ta, 3),
                ]
            )
            t_dot.append(td)
            t_add.append(ta)
            mem_ratio.append(c["add_intermediate"] / c["dot_intermediate"])
    last = costs(p.n, sweep[-1], max(1, round(p.hidden_ratio * sweep[-1])))
    return DemoResult(
        conclusion=L(
            zh=f"d_k={sweep[-1]}：加性注意力有 {last['add_params']:,} 个参数、{last['add_madds']:,} 次乘加和 {last['add_tanh']:,} 次 tanh，中间张量是点积的 {mem_ratio[-1]:.0f} 倍；实测慢 {t_add[-1] / max(t_dot[-1], 1e-9):.1f} 倍。",
            en=f"d_k={sweep[-1]}: additive attention has {last['add_params']:,} parameters, {last['add_madds']:,} multiply-adds and {last['add_tanh']:,} tanh calls, and an intermediate {mem_ratio[-1]:.0f}× the dot product's; measured {t_add[-1] / max(t_dot[-1], 1e-9):.1f}× slower.",
        ),
        scalars=[
            Scalar(
                key="add_params",
                label=L(zh="加性注意力参数（最大 d_k）", en="additive parameters (largest d_k)"),
                value=last["add_params"],
            ),
            Scalar(
                key="dot_params", label=L(zh="点积注意力参数", en="dot-product parameters"), value=0
            ),
            Scalar(
                key="intermediate_ratio",
                label=L(
                    zh="中间张量大小之比（加性/点积）", en="intermediate size ratio (additive/dot)"
                ),
                value=mem_ratio[-1],
            ),
            Scalar(
                key="time_ratio",
                label=L(zh="实测时间之比（加性/点积）", en="measured time ratio (additive/dot)"),
                value=t_add[-1] / max(t_dot[-1], 1e-9),
            ),
        ],
        charts=[
            Chart(
                title=L(zh="实测时间与 d_k（中位数）", en="Measured time vs d_k (median)"),
                x_label="d_k",
                y_label="ms",
                log_x=True,
                log_y=True,
                series=[
                    Series(name="dot", x=sweep, y=t_dot),
                    Series(name="additive", x=sweep, y=t_add),
                ],
            )
        ],
        tables=[
            Table(
                title=L(
                    zh="成本（确定的计数 + 实测时间）", en="Costs (exact counts + measured time)"
                ),
                columns=[
                    "d_k",
                    "d_a",
                    "additive params",
                    "dot madds",
                    "additive madds",
                    "additive intermediate",
                    "dot ms",
                    "additive ms",
                ],
                rows=rows,
            )
        ],
    )
