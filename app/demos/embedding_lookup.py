"""An embedding lookup is a matrix product with one-hot rows: nn.Embedding(ids) equals
one_hot(ids) @ W exactly, so its gradient is one_hotᵀ @ (upstream gradient): only the rows of
the ids that were looked up receive any, a row looked up twice receives the sum of both. The
gather does no arithmetic; the one-hot product spends 2·V·d FLOPs per token to copy d numbers.

Sources: torch/nn/modules/sparse.py (nn.Embedding; with `sparse=True` its gradient holds only
the looked-up rows); torch/nn/functional.py (`one_hot`, `embedding`).
"""

from __future__ import annotations

from pydantic import Field

from app.bank.models import Localized as L
from app.demos import (
    Chart,
    DemoParams,
    DemoResult,
    Heatmap,
    Scalar,
    Series,
    Table,
    generator,
    register,
    seeded_global_rng,
)
from app.demos._lazy import F, nn, torch

VOCABS = [2**i for i in range(8, 19)]  # 256 … 262144
# Published vocabulary sizes, for the cost table.
KNOWN_VOCABS = {32_000: "Llama 2", 50_257: "GPT-2", 128_256: "Llama 3"}


class Params(DemoParams):
    vocab: int = Field(16, ge=2, le=64, description="Vocabulary size of the small table.")
    d: int = Field(8, ge=1, le=64, description="Embedding width of the small table.")
    n: int = Field(10, ge=1, le=64, description="Token ids looked up.")
    calc_vocab: int = Field(128_256, ge=2, le=1_000_000, description="Cost table: vocabulary size.")
    calc_d: int = Field(4096, ge=1, le=32_768, description="Cost table: embedding width.")


@register(
    "embedding-lookup",
    title=L(zh="嵌入查表 = one-hot 乘矩阵", en="Embedding lookup = one-hot times a matrix"),
    description=L(
        zh="nn.Embedding 按 id 取行，与 one_hot(ids) @ W 完全相等；所以梯度是 one_hotᵀ @ 上游梯度：只有被查到的行有梯度，被查两次的行得到两份梯度之和，没出现的 id 梯度恰好为 0。查表不做任何乘法，one-hot 乘法每个 token 要花 2·V·d 次浮点运算才取出 d 个数。",
        en="nn.Embedding picks rows by id, exactly equal to one_hot(ids) @ W; so its gradient is one_hotᵀ @ (upstream gradient): only looked-up rows get any, a row looked up twice gets the sum of both, and ids that did not occur get exactly 0. The lookup does no arithmetic; the one-hot product spends 2·V·d FLOPs per token to fetch d numbers.",
    ),
    params=Params,
    serves=("tokenizers", "embedding"),
)
def run(p: Params, seed: int) -> DemoResult:
    with seeded_global_rng(seed):
        emb = nn.Embedding(p.vocab, p.d)
    g = generator(seed)
    ids = torch.randint(p.vocab, (p.n,), generator=g)
    upstream = torch.randn(p.n, p.d, generator=g)  # stands in for ∂loss/∂(looked-up vectors)

    w_matmul = emb.weight.detach().clone().requires_grad_(True)
    with torch.enable_grad():  # whatever the caller's grad mode
        looked_up = emb(ids)
        product = F.one_hot(ids, p.vocab).to(w_matmul.dtype) @ w_matmul
        (looked_up * upstream).sum().backward()
        (product * upstream).sum().backward()
    grad = emb.weight.grad
    exact = bool(torch.equal(looked_up, product))
    value_diff = (looked_up - product).abs().max().item()
    grad_diff = (grad - w_matmul.grad).abs().max().item()

    counts = torch.bincount(ids, minlength=p.vocab)
    used = counts > 0
    unused_grad = grad[~used].abs().max().item() if bool((~used).any()) else 0.0
    rows_nonzero = int((grad.abs().sum(-1) > 0).sum())
    # A row looked up c times gets the sum of the c upstream rows (scatter-add, not overwrite).
    summed = torch.zeros_like(grad).index_add_(0, ids, upstream)
    sum_diff = (grad - summed).abs().max().item()
    repeated = int((counts > 1).sum())

    mm_flops = 2 * p.calc_vocab * p.calc_d
    onehot_bytes = 4 * p.calc_vocab
    return DemoResult(
        conclusion=L(
            zh=f"{p.n} 个 id 查 {p.vocab} × {p.d} 的表：查表结果与 one_hot(ids) @ W {'逐位完全相同' if exact else f'最大差 {value_diff:.1e}'}，两种写法的梯度最大差 {grad_diff:.1e}。出现过的 {int(used.sum())} 个 id 之外，其余 {p.vocab - int(used.sum())} 行梯度最大绝对值 {unused_grad:g}；有梯度的行 {rows_nonzero} 个；{repeated} 个 id 被查了不止一次，它们的行得到各次梯度之和（与逐次累加的最大差 {sum_diff:.1e}）。V = {p.calc_vocab:,}、d = {p.calc_d:,} 时，one-hot 写法每个 token {mm_flops:,} FLOPs，还要 {onehot_bytes / 2**20:.3g} MiB 的 one-hot 向量（fp32），查表只复制 {p.calc_d:,} 个数。",
            en=f"{p.n} ids looked up in a {p.vocab} × {p.d} table: the lookup and one_hot(ids) @ W are {'bit-for-bit identical' if exact else f'within {value_diff:.1e}'}, and their gradients differ by at most {grad_diff:.1e}. Outside the {int(used.sum())} ids that occurred, the other {p.vocab - int(used.sum())} rows get a gradient of at most {unused_grad:g} in absolute value; {rows_nonzero} rows have any gradient; {repeated} ids were looked up more than once and their rows get the sum of those gradients (max difference from adding them up: {sum_diff:.1e}). At V = {p.calc_vocab:,}, d = {p.calc_d:,} the one-hot form costs {mm_flops:,} FLOPs per token plus a {onehot_bytes / 2**20:.3g} MiB one-hot vector (fp32); the lookup copies {p.calc_d:,} numbers.",
        ),
        scalars=[
            Scalar(
                key="lookup_equals_matmul",
                label=L(
                    zh="查表与 one-hot 乘法逐位相同", en="lookup bit-for-bit equal to one-hot @ W"
                ),
                value=exact,
            ),
            Scalar(
                key="max_grad_diff",
                label=L(zh="两种写法梯度的最大差", en="max gradient difference of the two forms"),
                value=grad_diff,
            ),
            Scalar(
                key="max_grad_unused_rows",
                label=L(zh="未出现的 id：梯度最大绝对值", en="ids not looked up: max |gradient|"),
                value=unused_grad,
            ),
            Scalar(
                key="rows_with_gradient",
                label=L(zh="有梯度的行数", en="rows with a gradient"),
                value=rows_nonzero,
            ),
            Scalar(
                key="distinct_ids",
                label=L(zh="出现过的不同 id 数", en="distinct ids looked up"),
                value=int(used.sum()),
            ),
            Scalar(
                key="repeated_row_sum_diff",
                label=L(
                    zh="重复的 id：梯度与各次之和的最大差",
                    en="repeated ids: max |gradient − sum of their upstream rows|",
                ),
                value=sum_diff,
            ),
            Scalar(
                key="matmul_flops_per_token",
                label=L(zh="one-hot 写法每 token 的 FLOPs", en="one-hot form: FLOPs per token"),
                value=mm_flops,
            ),
        ],
        heatmaps=[
            Heatmap(
                x_label="embedding dimension",
                y_label="token id",
                title=L(
                    zh="嵌入表上的梯度（行 = token id，括号里是被查次数；列 = 嵌入维度）",
                    en="Gradient on the embedding table (rows = token ids, with times looked up; columns = embedding dims)",
                ),
                matrix=grad.tolist(),
                row_labels=[f"id {i} (×{c})" for i, c in enumerate(counts.tolist())],
                col_labels=[str(j) for j in range(p.d)],
            )
        ],
        tables=[
            Table(
                title=L(
                    zh=f"每个 token 的代价：one-hot 乘法 vs 查表（d = {p.calc_d:,}）",
                    en=f"Cost per token: one-hot product vs lookup (d = {p.calc_d:,})",
                ),
                columns=[
                    "model",
                    "vocab V",
                    "one-hot @ W: FLOPs",
                    "one-hot vector (fp32 bytes)",
                    "lookup: numbers copied",
                    "FLOPs per number copied",
                ],
                rows=[
                    [KNOWN_VOCABS.get(v, "chosen V"), v, 2 * v * p.calc_d, 4 * v, p.calc_d, 2 * v]
                    for v in sorted({*KNOWN_VOCABS, p.calc_vocab})
                ],
            )
        ],
        charts=[
            Chart(
                title=L(
                    zh=f"每个 token 的 one-hot 乘法 FLOPs 随词表大小增长（d = {p.calc_d:,}）；查表为 0",
                    en=f"One-hot product FLOPs per token vs vocabulary size (d = {p.calc_d:,}); the lookup does none",
                ),
                x_label="vocabulary size V (tokens)",
                y_label="FLOPs per token",
                log_x=True,
                log_y=True,
                series=[
                    Series(
                        name="one_hot(ids) @ W: 2·V·d",
                        x=VOCABS,
                        y=[2 * v * p.calc_d for v in VOCABS],
                    ),
                ],
            )
        ],
    )
