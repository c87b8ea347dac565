import torch

from app.drills.harness import case, check, check_close, check_shape, dtype_name, randn


def pair(result):
    check(
        isinstance(result, tuple | list) and len(result) == 2,
        "apply_rope must return a tuple (q_rot, k_rot)",
    )
    return result


def half_split(x, positions, base=10000.0):
    """The other common convention (x[i] pairs with x[i + d/2]), to recognise it."""
    d = x.size(-1)
    inv = base ** (-torch.arange(0, d, 2, dtype=torch.float64) / d)
    ang = positions.double()[:, None] * inv
    cos, sin = torch.cat([ang.cos()] * 2, -1), torch.cat([ang.sin()] * 2, -1)
    x1, x2 = x[..., : d // 2].double(), x[..., d // 2 :].double()
    return (x.double() * cos + torch.cat([-x2, x1], -1) * sin).to(x.dtype)


def check_rotated(got, want, x, positions, what):
    check_shape(got, want.shape, what)
    if not torch.allclose(got.double(), want.double(), atol=1e-3) and torch.allclose(
        got.double(), half_split(x, positions).double(), atol=1e-3
    ):
        check(
            False,
            f"{what}: this is the half-split pairing (x[i] with x[i + d/2]); this drill pairs "
            "neighbours: x[2i] with x[2i+1]",
        )
    check_close(got, want, what)


@case("position 0 leaves q and k unchanged", zh="位置 0 处 q 和 k 保持不变", visible=True)
def position_zero(fn, ref):
    q, k = randn(0, 3, 8), randn(1, 3, 8)
    positions = torch.zeros(3, dtype=torch.long)
    q_rot, k_rot = pair(fn(q, k, positions))
    check_close(q_rot, q, "q_rot at position 0")
    check_close(k_rot, k, "k_rot at position 0")


@case("a worked example: d = 4, position 1", zh="手算示例：d = 4，位置 1", visible=True)
def worked(fn, ref):
    q = torch.tensor([[1.0, 0.0, 1.0, 0.0]])
    k = torch.tensor([[0.0, 1.0, 0.0, 1.0]])
    q_rot, k_rot = pair(fn(q, k, torch.tensor([1])))
    # pair 0 turns by 1 rad, pair 1 by 1 * 10000^(-2/4) = 0.01 rad
    check_rotated(
        q_rot,
        torch.tensor([[0.540302, 0.841471, 0.99995, 0.0099998]]),
        q,
        torch.tensor([1]),
        "q_rot",
    )
    check_close(k_rot, torch.tensor([[-0.841471, 0.540302, -0.0099998, 0.99995]]), "k_rot")


@case("neighbours (x[2i], x[2i+1]) form the pairs", zh="相邻的 (x[2i], x[2i+1]) 两两成对旋转")
def pairing(fn, ref):
    q, k, positions = randn(2, 5, 16), randn(3, 5, 16), torch.arange(5)
    q_ref, k_ref = ref(q, k, positions)
    q_rot, k_rot = pair(fn(q, k, positions))
    check_rotated(q_rot, q_ref, q, positions, "q_rot")
    check_rotated(k_rot, k_ref, k, positions, "k_rot")


@case(
    "the score q_rot·k_rot depends only on the distance m − n",
    zh="分数 q_rot·k_rot 只取决于相对距离 m − n",
)
def relative(fn, ref):
    q, k = randn(4, 6, 8), randn(5, 6, 8)
    scores = []
    for offset in (0, 37):
        q_rot, k_rot = pair(fn(q, k, torch.arange(6) + offset))
        check_shape(q_rot, (6, 8), "q_rot")
        scores.append(q_rot @ k_rot.T)
    check_close(scores[1], scores[0], "the scores after shifting every position by 37", atol=1e-4)


@case(
    "batch and heads in front; q and k with different head counts",
    zh="批次和头维度在前；q 与 k 的头数可以不同",
)
def leading_dims(fn, ref):
    q, k, positions = randn(6, 2, 4, 5, 8), randn(7, 2, 1, 5, 8), torch.arange(5)
    q_ref, k_ref = ref(q, k, positions)
    q_rot, k_rot = pair(fn(q, k, positions))
    check_close(q_rot, q_ref, "q_rot")
    check_close(k_rot, k_ref, "k_rot")


@case(
    "any positions (a decoding step at 100..103) and another base",
    zh="任意位置（解码到 100..103）与另一个 base",
)
def positions_and_base(fn, ref):
    q, k, positions = randn(8, 4, 8), randn(9, 4, 8), torch.arange(100, 104)
    for base in (10000.0, 500000.0):
        q_ref, k_ref = ref(q, k, positions, base)
        q_rot, k_rot = pair(fn(q, k, positions, base=base))
        check_close(q_rot, q_ref, f"q_rot with base={base:g}")
        check_close(k_rot, k_ref, f"k_rot with base={base:g}")


@case(
    "float16 and float64 keep their dtype (angles in float32 or better)",
    zh="float16 与 float64 保持原 dtype（角度至少用 float32 计算）",
)
def dtypes(fn, ref):
    positions = torch.arange(1000, 1004)
    for dtype in (torch.float16, torch.float64):
        q, k = randn(10, 4, 16, dtype=dtype), randn(11, 4, 16, dtype=dtype)
        q_ref, k_ref = ref(q, k, positions)
        q_rot, k_rot = pair(fn(q, k, positions))
        name = dtype_name(dtype)
        check_close(q_rot, q_ref, f"q_rot ({name})")
        check_close(k_rot, k_ref, f"k_rot ({name})")


@case(
    "a rotation keeps each vector's length; gradients flow",
    zh="旋转保持每个向量的长度；梯度可以回传",
)
def norms_and_grads(fn, ref):
    q = randn(12, 3, 8).requires_grad_()
    k = randn(13, 3, 8).requires_grad_()
    q_rot, k_rot = pair(fn(q, k, torch.arange(3)))
    check_close(q_rot.norm(dim=-1), q.norm(dim=-1), "the lengths of q_rot's rows")
    (q_rot.sum() + 2 * k_rot.sum()).backward()
    q2, k2 = randn(12, 3, 8).requires_grad_(), randn(13, 3, 8).requires_grad_()
    q_ref, k_ref = ref(q2, k2, torch.arange(3))
    (q_ref.sum() + 2 * k_ref.sum()).backward()
    check(q.grad is not None and k.grad is not None, "q.grad or k.grad is None")
    check_close(q.grad, q2.grad, "q.grad")
    check_close(k.grad, k2.grad, "k.grad")
