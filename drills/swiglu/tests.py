import torch

from app.drills.harness import case, check, check_close, check_grads, check_shape, dtype_name, randn


def weights(seed, d_model=8, d_ff=16, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    w_gate = torch.randn(d_model, d_ff, generator=g) / d_model**0.5
    w_up = torch.randn(d_model, d_ff, generator=g) / d_model**0.5
    w_down = torch.randn(d_ff, d_model, generator=g) / d_ff**0.5
    return [t.to(dtype) for t in (w_gate, w_up, w_down)]


def check_out(out, expected, x, w_gate, w_up, w_down):
    check_shape(out, expected.shape, "out")
    if out.is_floating_point() and not torch.allclose(out.double(), expected.double(), atol=1e-3):
        g, u = x @ w_gate, x @ w_up
        if torch.allclose(out, (torch.sigmoid(g) * u) @ w_down, atol=1e-4):
            check(
                False,
                "out: the gate is sigmoid(z) (plain GLU); SwiGLU gates with SiLU(z) = z·sigmoid(z)",
            )
        if torch.allclose(out, (g * torch.sigmoid(u) * u) @ w_down, atol=1e-4) or torch.allclose(
            out, (g * torch.nn.functional.silu(u)) @ w_down, atol=1e-4
        ):
            check(False, "out: the SiLU went on the up projection; it belongs on x @ w_gate")
    check_close(out, expected, "out")


@case(
    "shape (2, 5, 8) in, (2, 5, 8) out, d_ff = 16",
    zh="输入 (2, 5, 8)，输出 (2, 5, 8)，d_ff = 16",
    visible=True,
)
def shape(fn, ref):
    out = fn(randn(0, 2, 5, 8), *weights(1))
    check_shape(out, (2, 5, 8), "out")


@case(
    "a worked example with identity-like weights",
    zh="手算示例：权重取单位矩阵及其倍数",
    visible=True,
)
def worked(fn, ref):
    x = torch.tensor([[1.0, -1.0]])
    w_gate = torch.eye(2)
    w_up = 2 * torch.eye(2)
    w_down = torch.eye(2)
    # gate SiLU([1, -1]) = [0.7311, -0.2689]; up [2, -2]; product [1.4621, 0.5379]
    check_out(
        fn(x, w_gate, w_up, w_down), torch.tensor([[1.462117, 0.537883]]), x, w_gate, w_up, w_down
    )


@case("the gate uses SiLU, not a bare sigmoid", zh="门控用 SiLU，而不是单纯的 sigmoid")
def silu_gate(fn, ref):
    x, ws = randn(2, 4, 8), weights(3)
    check_out(fn(x, *ws), ref(x, *ws), x, *ws)


@case(
    "the SiLU acts on the gate branch, not the up branch",
    zh="SiLU 作用在门控分支上，而不是上投影分支",
)
def which_branch(fn, ref):
    x, ws = randn(4, 6, 8), weights(5)
    check_out(fn(x, *ws), ref(x, *ws), x, *ws)


@case("any leading dimensions", zh="前导维度任意")
def leading_dims(fn, ref):
    ws = weights(6)
    for shape in ((8,), (2, 3, 4, 8)):
        x = randn(7, *shape)
        check_close(fn(x, *ws), ref(x, *ws), f"out for x of shape {shape}")


@case("float64 and float16 keep their dtype", zh="float64 与 float16 输入保持原 dtype")
def dtypes(fn, ref):
    for dtype in (torch.float64, torch.float16):
        x, ws = randn(8, 3, 8, dtype=dtype), weights(9, dtype=dtype)
        check_close(fn(x, *ws), ref(x, *ws), f"out ({dtype_name(dtype)})")


@case("gradients reach x and all three weights", zh="梯度传到 x 和全部三个权重矩阵")
def gradients(fn, ref):
    up = randn(10, 4, 8)
    grads = []
    for f in (ref, fn):
        x = randn(11, 4, 8).requires_grad_()
        ws = [w.requires_grad_() for w in weights(12)]
        (f(x, *ws) * up).sum().backward()
        grads.append([t.grad for t in (x, *ws)])
    check_grads(grads[1], grads[0], ("x", "w_gate", "w_up", "w_down"))
