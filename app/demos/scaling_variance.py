"""Q4: the dot product of two random d_k-vectors has variance d_k; dividing by sqrt(d_k) makes it 1."""

from __future__ import annotations

import math

from pydantic import Field

from app.bank.models import Localized as L
from app.demos import (
    CHUNK_NUMBERS,
    Chart,
    DemoParams,
    DemoResult,
    Scalar,
    Series,
    Table,
    draw_normal,
    generator,
    register,
)
from app.demos._lazy import torch


class Params(DemoParams):
    d_k: int = Field(64, ge=1, le=4096, description="Key/query dimension to report on.")
    samples: int = Field(4000, ge=100, le=20_000, description="Random (q, k) pairs per d_k.")
    max_d_k: int = Field(512, ge=2, le=2048, description="Largest d_k on the sweep chart.")


@register(
    "scaling-variance",
    title=L(zh="q·k 的方差随 d_k 增长", en="Variance of q·k grows with d_k"),
    description=L(
        zh="q、k 的分量独立服从 N(0,1)，q·k 的方差等于 d_k；除以 √d_k 后方差回到 1。",
        en="With q and k entries i.i.d. N(0,1), var(q·k) equals d_k; dividing by √d_k brings it back to 1.",
    ),
    params=Params,
    serves=("Q4",),
)
def run(p: Params, seed: int) -> DemoResult:
    g = generator(seed)
    qb, kb = torch.empty(CHUNK_NUMBERS), torch.empty(CHUNK_NUMBERS)  # reused by every chunk

    def draw(n: int, d: int) -> tuple[torch.Tensor, torch.Tensor]:
        return draw_normal(qb, (n, d), g), draw_normal(kb, (n, d), g)

    def variances(d: int) -> tuple[float, float]:
        chunk = max(1, CHUNK_NUMBERS // d)
        dots = []
        for start in range(0, p.samples, chunk):
            q, k = draw(min(chunk, p.samples - start), d)
            dots.append(q.mul_(k).sum(-1))
        s = torch.cat(dots)
        return s.var().item(), (s / math.sqrt(d)).var().item()

    sweep = [d for d in (2**i for i in range(1, 13)) if d <= p.max_d_k]
    # One draw serves the whole sweep: the running sums of q_i·k_i are the dot products of the
    # first d coordinates, for every d at once (half the random numbers of a draw per d_k).
    top = sweep[-1]
    cols = torch.tensor([d - 1 for d in sweep])
    chunk = max(1, CHUNK_NUMBERS // top)
    dots = []
    for start in range(0, p.samples, chunk):
        q, k = draw(min(chunk, p.samples - start), top)
        dots.append(q.mul_(k).cumsum_(-1).index_select(-1, cols))
    by_d = torch.cat(dots)  # (samples, len(sweep))
    rows, raw, scaled = [], [], []
    for j, d in enumerate(sweep):
        v = by_d[:, j].var().item()
        vs = v / d  # var(s/√d) = var(s)/d
        rows.append([d, round(v, 3), round(v / d, 3), round(vs, 3)])
        raw.append(v)
        scaled.append(vs)
    var, var_scaled = variances(p.d_k)
    ratio = var / p.d_k
    return DemoResult(
        conclusion=L(
            zh=f"d_k={p.d_k} 时 var(q·k)={var:.1f} ≈ d_k；缩放后 var={var_scaled:.3f} ≈ 1。",
            en=f"At d_k={p.d_k}, var(q·k)={var:.1f} ≈ d_k; after scaling var={var_scaled:.3f} ≈ 1.",
        ),
        scalars=[
            Scalar(key="var_unscaled", label=L(zh="未缩放方差", en="var(q·k)"), value=var),
            Scalar(key="var_over_dk", label=L(zh="方差 / d_k", en="var(q·k) / d_k"), value=ratio),
            Scalar(
                key="var_scaled", label=L(zh="缩放后方差", en="var(q·k/√d_k)"), value=var_scaled
            ),
        ],
        tables=[
            Table(
                title=L(zh="按 d_k 扫描", en="Sweep over d_k"),
                columns=["d_k", "var(q·k)", "var/d_k", "var(q·k/√d_k)"],
                rows=rows,
            )
        ],
        charts=[
            Chart(
                title=L(zh="方差与 d_k", en="Variance vs d_k"),
                x_label="d_k",
                y_label="variance",
                log_x=True,
                log_y=True,
                series=[
                    Series(name="var(q·k)", x=sweep, y=raw),
                    Series(name="var(q·k/√d_k)", x=sweep, y=scaled),
                    Series(name="d_k", x=sweep, y=[float(d) for d in sweep]),
                ],
            )
        ],
    )
