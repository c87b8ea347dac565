"""Q9: the sinusoidal positional encoding — its heatmap, PE(pos)·PE(pos+k) depending only on k,
and PE(pos+k) = M_k · PE(pos) for a rotation M_k that does not depend on pos."""

from __future__ import annotations

from pydantic import Field

from app.bank.models import Localized as L
from app.demos import Chart, DemoParams, DemoResult, Heatmap, Scalar, Series, register
from app.demos._lazy import torch


class Params(DemoParams):
    d_model: int = Field(64, ge=2, le=1024, multiple_of=2, description="Encoding width (even).")
    max_len: int = Field(128, ge=2, le=2048, description="Positions computed.")
    k: int = Field(5, ge=1, le=512, description="Offset k for the rotation check.")


def sinusoidal(max_len: int, d_model: int, dtype: torch.dtype | None = None) -> torch.Tensor:
    """PE(pos, 2i) = sin(pos / 10000^(2i/d)), PE(pos, 2i+1) = cos(pos / 10000^(2i/d)).
    float64 unless told otherwise: the demo checks identities to 1e-9."""
    dtype = dtype or torch.float64
    pos = torch.arange(max_len, dtype=dtype)[:, None]
    two_i = torch.arange(0, d_model, 2, dtype=dtype)
    angle = pos / (10000 ** (two_i / d_model))
    pe = torch.zeros(max_len, d_model, dtype=dtype)
    pe[:, 0::2] = torch.sin(angle)
    pe[:, 1::2] = torch.cos(angle)
    return pe


def rotation(k: int, d_model: int) -> torch.Tensor:
    """M_k: block-diagonal, one 2×2 rotation by ω_i·k per dimension pair (sin, cos)."""
    omega = 1 / (10000 ** (torch.arange(0, d_model, 2, dtype=torch.float64) / d_model))
    m = torch.zeros(d_model, d_model, dtype=torch.float64)
    c, s = torch.cos(omega * k), torch.sin(omega * k)
    idx = torch.arange(0, d_model, 2)
    # [sin(a+b), cos(a+b)] = [[cos b, sin b], [−sin b, cos b]] · [sin a, cos a]
    m[idx, idx], m[idx, idx + 1] = c, s
    m[idx + 1, idx], m[idx + 1, idx + 1] = -s, c
    return m


def _downsample(t: torch.Tensor, rows: int, cols: int) -> list[list[float]]:
    ri = torch.linspace(0, t.shape[0] - 1, min(rows, t.shape[0])).round().long()
    ci = torch.linspace(0, t.shape[1] - 1, min(cols, t.shape[1])).round().long()
    return t[ri][:, ci].tolist()


@register(
    "sinusoidal-pe",
    title=L(zh="正弦位置编码", en="Sinusoidal positional encoding"),
    description=L(
        zh="偶数维 sin、奇数维 cos：热力图；PE(pos)·PE(pos+k) 只依赖 k；PE(pos+k) 等于一个只依赖 k 的旋转矩阵乘 PE(pos)。",
        en="sin on even dimensions, cos on odd: the heatmap; PE(pos)·PE(pos+k) depends only on k; PE(pos+k) is a rotation that depends only on k applied to PE(pos).",
    ),
    params=Params,
    serves=("Q9",),
)
def run(p: Params, seed: int) -> DemoResult:
    pe = sinusoidal(p.max_len + p.k, p.d_model)
    m = rotation(p.k, p.d_model)
    rot_err = (pe[: p.max_len] @ m.T - pe[p.k : p.max_len + p.k]).abs().max().item()
    # Dot products at a fixed offset, across every starting position.
    dots_k = (pe[: p.max_len] * pe[p.k : p.max_len + p.k]).sum(-1)
    spread = (dots_k.max() - dots_k.min()).item()
    ks = list(range(0, min(p.max_len, 200)))
    profile = [(pe[0] * pe[k]).sum().item() for k in ks]
    sym = (
        max(
            abs((pe[10] * pe[10 + k]).sum().item() - (pe[10 + k] * pe[10]).sum().item())
            for k in range(1, 5)
        )
        if p.max_len > 15
        else 0.0
    )
    even_is_sin = bool(
        torch.allclose(pe[:, 0], torch.sin(torch.arange(pe.shape[0], dtype=torch.float64)))
    )
    return DemoResult(
        conclusion=L(
            zh=f"偏移 k={p.k}：PE(pos)·PE(pos+k) 在所有 pos 上的极差 {spread:.1e}（只依赖 k）；M_k·PE(pos) 与 PE(pos+k) 的最大误差 {rot_err:.1e}。",
            en=f"Offset k={p.k}: PE(pos)·PE(pos+k) varies by {spread:.1e} across pos (depends only on k); M_k·PE(pos) vs PE(pos+k) max error {rot_err:.1e}.",
        ),
        scalars=[
            Scalar(
                key="dot_spread_over_pos",
                label=L(
                    zh="固定 k 时点积随 pos 的极差", en="dot product spread over pos at fixed k"
                ),
                value=spread,
            ),
            Scalar(
                key="rotation_max_error",
                label=L(zh="旋转关系的最大误差", en="rotation identity max error"),
                value=rot_err,
            ),
            Scalar(
                key="dot_at_k",
                label=L(zh="PE(pos)·PE(pos+k)", en="PE(pos)·PE(pos+k)"),
                value=dots_k[0].item(),
            ),
            Scalar(
                key="norm",
                label=L(zh="每个位置编码的范数 √(d/2)", en="norm of each encoding √(d/2)"),
                value=pe[0].norm().item(),
            ),
            Scalar(
                key="dim0_is_sin_pos",
                label=L(zh="第 0 维 = sin(pos)", en="dimension 0 = sin(pos)"),
                value=even_is_sin,
            ),
            Scalar(
                key="symmetry_error", label=L(zh="±k 对称性误差", en="±k symmetry error"), value=sym
            ),
        ],
        heatmaps=[
            Heatmap(
                x_label="dimension",
                y_label="position",
                title=L(
                    zh="位置编码（行 = 位置，列 = 维度）",
                    en="Encoding (rows = positions, columns = dimensions)",
                ),
                matrix=_downsample(pe[: p.max_len], 64, 64),
            )
        ],
        charts=[
            Chart(
                title=L(zh="PE(0)·PE(k) 随偏移 k", en="PE(0)·PE(k) against offset k"),
                x_label="k",
                y_label="dot product",
                series=[Series(name="PE(0)·PE(k)", x=ks, y=profile)],
            )
        ],
    )
