"""Q4: without the 1/√d_k scale, softmax over q·k saturates as d_k grows: entropy falls towards 0,
the top weight towards 1, and the softmax's gradient vanishes."""

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
    d_k: int = Field(512, ge=1, le=4096, description="Key/query dimension to report on.")
    n_keys: int = Field(32, ge=2, le=128, description="Keys each query attends over.")
    queries: int = Field(100, ge=10, le=300, description="Random queries averaged over.")
    max_d_k: int = Field(1024, ge=2, le=4096, description="Largest d_k on the sweep.")


def _stats(scores: torch.Tensor) -> tuple[float, float, float]:
    """Mean entropy, mean top weight, and mean Frobenius norm of the softmax Jacobian."""
    p = scores.softmax(-1)
    entropy = -(p * p.clamp_min(1e-30).log()).sum(-1).mean().item()
    top = p.max(-1).values.mean().item()
    # ‖diag(p) − p pᵀ‖_F² = Σp² − 2Σp³ + (Σp²)², without building the n×n Jacobian.
    s2, s3 = p.pow(2).sum(-1), p.pow(3).sum(-1)
    return entropy, top, (s2 - 2 * s3 + s2 * s2).clamp_min(0).sqrt().mean().item()


def _scores(d: int, p: Params, g: torch.Generator, kb: torch.Tensor) -> torch.Tensor:
    # Chunked over queries; the keys of every chunk reuse one buffer (see draw_normal), and a
    # batched matmul gives the scores without a (queries, keys, d) product.
    chunk = max(1, CHUNK_NUMBERS // (p.n_keys * d))
    out = []
    for start in range(0, p.queries, chunk):
        m = min(chunk, p.queries - start)
        q = torch.randn(m, d, 1, generator=g)
        k = draw_normal(kb, (m, p.n_keys, d), g)
        out.append(torch.bmm(k, q).squeeze(-1))
    return torch.cat(out)  # (queries, n_keys)


@register(
    "softmax-saturation",
    title=L(zh="不缩放时 softmax 饱和", en="Softmax saturates without scaling"),
    description=L(
        zh="q、k ~ N(0,1)：d_k 增大时，未缩放的分数让 softmax 接近 one-hot，熵趋于 0、雅可比趋于 0（梯度消失）；除以 √d_k 后保持稳定。",
        en="With q, k ~ N(0,1), growing d_k makes unscaled scores push the softmax towards one-hot: entropy and the Jacobian go to 0 (vanishing gradients); dividing by √d_k keeps both stable.",
    ),
    params=Params,
    serves=("Q4",),
)
def run(p: Params, seed: int) -> DemoResult:
    g = generator(seed)
    sweep = [d for d in (2**i for i in range(0, 13)) if d <= p.max_d_k]
    rows, ent_raw, ent_scaled, jac_raw, jac_scaled = [], [], [], [], []
    kb = torch.empty(CHUNK_NUMBERS)
    for d in sweep:
        s = _scores(d, p, g, kb)
        e_r, t_r, j_r = _stats(s)
        e_s, t_s, j_s = _stats(s / math.sqrt(d))
        rows.append(
            [
                d,
                round(e_r, 3),
                round(t_r, 3),
                round(j_r, 4),
                round(e_s, 3),
                round(t_s, 3),
                round(j_s, 4),
            ]
        )
        ent_raw.append(e_r)
        ent_scaled.append(e_s)
        jac_raw.append(j_r)
        jac_scaled.append(j_s)
    s = _scores(p.d_k, p, g, kb)
    e_r, t_r, j_r = _stats(s)
    e_s, t_s, j_s = _stats(s / math.sqrt(p.d_k))
    max_entropy = math.log(p.n_keys)
    return DemoResult(
        conclusion=L(
            zh=f"d_k={p.d_k}：未缩放时最大权重 {t_r:.2f}、熵 {e_r:.2f}、雅可比范数 {j_r:.3f}；缩放后 {t_s:.2f}、{e_s:.2f}、{j_s:.3f}（均匀分布的熵为 {max_entropy:.2f}）。",
            en=f"d_k={p.d_k}: unscaled top weight {t_r:.2f}, entropy {e_r:.2f}, Jacobian norm {j_r:.3f}; scaled {t_s:.2f}, {e_s:.2f}, {j_s:.3f} (uniform entropy {max_entropy:.2f}).",
        ),
        scalars=[
            Scalar(
                key="top_unscaled",
                label=L(zh="未缩放：平均最大权重", en="unscaled: mean top weight"),
                value=t_r,
            ),
            Scalar(
                key="top_scaled",
                label=L(zh="缩放后：平均最大权重", en="scaled: mean top weight"),
                value=t_s,
            ),
            Scalar(
                key="entropy_unscaled",
                label=L(zh="未缩放：平均熵", en="unscaled: mean entropy"),
                value=e_r,
            ),
            Scalar(
                key="entropy_scaled",
                label=L(zh="缩放后：平均熵", en="scaled: mean entropy"),
                value=e_s,
            ),
            Scalar(
                key="jacobian_unscaled",
                label=L(zh="未缩放：softmax 雅可比范数", en="unscaled: softmax Jacobian norm"),
                value=j_r,
            ),
            Scalar(
                key="jacobian_scaled",
                label=L(zh="缩放后：softmax 雅可比范数", en="scaled: softmax Jacobian norm"),
                value=j_s,
            ),
        ],
        charts=[
            Chart(
                title=L(zh="softmax 熵与 d_k", en="Softmax entropy vs d_k"),
                x_label="d_k",
                y_label="entropy (nats)",
                log_x=True,
                series=[
                    Series(name="q·k", x=sweep, y=ent_raw),
                    Series(name="q·k/√d_k", x=sweep, y=ent_scaled),
                ],
            ),
            Chart(
                title=L(
                    zh="softmax 雅可比范数（梯度大小）与 d_k",
                    en="Softmax Jacobian norm (gradient size) vs d_k",
                ),
                x_label="d_k",
                y_label="‖J‖",
                log_x=True,
                series=[
                    Series(name="q·k", x=sweep, y=jac_raw),
                    Series(name="q·k/√d_k", x=sweep, y=jac_scaled),
                ],
            ),
        ],
        tables=[
            Table(
                title=L(zh="按 d_k 扫描", en="Sweep over d_k"),
                columns=[
                    "d_k",
                    "entropy",
                    "top weight",
                    "‖J‖",
                    "entropy (scaled)",
                    "top (scaled)",
                    "‖J‖ (scaled)",
                ],
                rows=rows,
            )
        ],
    )
