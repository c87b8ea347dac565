"""Q12/Q13: BatchNorm's output for a sequence depends on its batch mates and padding, LayerNorm's
does not; batch size 1 and train/eval differences."""

from __future__ import annotations

from pydantic import Field, model_validator

from app.bank.models import Localized as L
from app.demos import DemoParams, DemoResult, Scalar, Table, generator, register
from app.demos._lazy import F, nn, torch


class Params(DemoParams):
    batch: int = Field(4, ge=2, le=32, description="Sequences in the batch.")
    max_len: int = Field(10, ge=2, le=64, description="Padded length.")
    len0: int = Field(4, ge=1, le=64, description="Real length of sequence 0 (the one we watch).")
    d_model: int = Field(8, ge=2, le=128, description="Features per token.")

    @model_validator(mode="after")
    def _fits(self) -> Params:
        if self.len0 > self.max_len:
            raise ValueError(f"len0 ({self.len0}) must be at most max_len ({self.max_len})")
        return self


def _batch(p: Params, g: torch.Generator, seq0: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """A padded batch whose sequence 0 is ``seq0``; the others get random content and lengths."""
    x = torch.randn(p.batch, p.max_len, p.d_model, generator=g) * 2 + 1
    lengths = torch.randint(1, p.max_len + 1, (p.batch,), generator=g)
    lengths[0] = p.len0
    x[0, : p.len0] = seq0
    mask = torch.arange(p.max_len)[None, :] < lengths[:, None]  # (B, T): True = real token
    return x * mask[..., None], mask


def _bn_train(x: torch.Tensor) -> torch.Tensor:
    """BatchNorm over every (sequence, position) of the batch, pads included, as a naive
    nn.BatchNorm1d on (B·T, d) does in training."""
    flat = x.reshape(-1, x.shape[-1])
    return F.batch_norm(flat, None, None, training=True).reshape(x.shape)


def _ln(x: torch.Tensor) -> torch.Tensor:
    return F.layer_norm(x, x.shape[-1:])


def _batch_of_one_errors() -> list[list[str]]:
    bn = nn.BatchNorm1d(4).train()
    rows = []
    for shape in [(1, 4), (1, 4, 5)]:
        try:
            bn(torch.ones(shape))
            rows.append([str(shape), "runs (statistics over the length axis)"])
        except ValueError as e:
            rows.append([str(shape), f"ValueError: {e}"])
    return rows


@register(
    "layernorm-vs-batchnorm",
    title=L(zh="LayerNorm 与 BatchNorm", en="LayerNorm vs BatchNorm"),
    description=L(
        zh="带 padding 的变长批次：BatchNorm 跨样本统计，一个序列的输出随同批的其他序列和 padding 而变；LayerNorm 只在每个 token 内部统计，不受影响。另看 batch=1 与 train/eval 的差别。",
        en="A padded variable-length batch: BatchNorm's statistics span the batch, so a sequence's output changes with its batch mates and their padding; LayerNorm normalises inside each token and does not. Also batch size 1 and train vs eval.",
    ),
    params=Params,
    serves=("Q12", "Q13"),
)
def run(p: Params, seed: int) -> DemoResult:
    g = generator(seed)
    seq0 = torch.randn(p.len0, p.d_model, generator=g) * 2 + 1
    xa, ma = _batch(p, g, seq0)
    xb, mb = _batch(p, g, seq0)  # same sequence 0, different batch mates and padding
    bn_diff = (_bn_train(xa)[0, : p.len0] - _bn_train(xb)[0, : p.len0]).abs().max().item()
    ln_diff = (_ln(xa)[0, : p.len0] - _ln(xb)[0, : p.len0]).abs().max().item()

    # Padding pollutes BatchNorm's statistics: compare with statistics over real tokens only.
    real = xa[ma]
    mean_all = xa.reshape(-1, p.d_model).mean(0)
    mean_real = real.mean(0)
    pad_share = 1 - ma.float().mean().item()

    # Train vs eval: BatchNorm switches to running statistics, LayerNorm has none.
    bn = nn.BatchNorm1d(p.d_model)
    flat = xa.reshape(-1, p.d_model)
    with torch.no_grad():
        bn.train()
        out_train = bn(flat)
        bn.eval()
        out_eval = bn(flat)
    bn_train_eval = (out_train - out_eval).abs().max().item()
    ln_mod = nn.LayerNorm(p.d_model)
    with torch.no_grad():
        ln_train_eval = (ln_mod.train()(flat) - ln_mod.eval()(flat)).abs().max().item()

    return DemoResult(
        conclusion=L(
            zh=f"只换同批的其他序列：序列 0 的 BatchNorm 输出最多变了 {bn_diff:.3f}，LayerNorm 变了 {ln_diff:g}；batch 中 {pad_share:.0%} 是 padding。",
            en=f"Changing only the batch mates: sequence 0's BatchNorm output moved by up to {bn_diff:.3f}, LayerNorm's by {ln_diff:g}; {pad_share:.0%} of the batch is padding.",
        ),
        scalars=[
            Scalar(
                key="bn_batchmate_diff",
                label=L(zh="BN：换同批序列后的最大变化", en="BN: max change from new batch mates"),
                value=bn_diff,
            ),
            Scalar(
                key="ln_batchmate_diff",
                label=L(zh="LN：换同批序列后的最大变化", en="LN: max change from new batch mates"),
                value=ln_diff,
            ),
            Scalar(
                key="pad_share", label=L(zh="padding 占比", en="share of padding"), value=pad_share
            ),
            Scalar(
                key="mean_shift_from_pads",
                label=L(zh="padding 造成的均值偏差", en="mean shift caused by pads"),
                value=(mean_all - mean_real).abs().max().item(),
            ),
            Scalar(
                key="bn_train_vs_eval",
                label=L(zh="BN：train 与 eval 输出差", en="BN: train vs eval output"),
                value=bn_train_eval,
            ),
            Scalar(
                key="ln_train_vs_eval",
                label=L(zh="LN：train 与 eval 输出差", en="LN: train vs eval output"),
                value=ln_train_eval,
            ),
        ],
        tables=[
            Table(
                title=L(zh="各自在哪个轴上统计", en="Which axis each normalises over"),
                columns=[
                    "",
                    "statistics over",
                    "depends on batch mates",
                    "train ≠ eval",
                    "padding",
                ],
                rows=[
                    [
                        "BatchNorm",
                        "batch (× positions), per feature",
                        True,
                        True,
                        "pollutes the stats",
                    ],
                    [
                        "LayerNorm",
                        "features d_model, per token",
                        False,
                        False,
                        "no effect on real tokens",
                    ],
                ],
            ),
            Table(
                title=L(
                    zh="batch=1 时 BatchNorm1d（train 模式）",
                    en="BatchNorm1d with a batch of 1 (train mode)",
                ),
                columns=["input shape", "torch says"],
                rows=_batch_of_one_errors(),
            ),
            Table(
                title=L(
                    zh="特征均值：含 padding vs 仅真实 token",
                    en="Feature means: with pads vs real tokens only",
                ),
                columns=["feature", "mean (pads included)", "mean (real tokens)"],
                rows=[
                    [i, round(mean_all[i].item(), 4), round(mean_real[i].item(), 4)]
                    for i in range(min(p.d_model, 16))
                ],
            ),
        ],
    )
