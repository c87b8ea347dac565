import torch

from app.drills.harness import case, check, check_close, check_grads, check_shape, dtype_name


def data(seed, n=6, c=5, dtype=torch.float32, scale=1.0):
    g = torch.Generator().manual_seed(seed)
    logits = (torch.randn(n, c, generator=g) * scale).to(dtype)
    target = torch.randint(0, c, (n,), generator=g)
    return logits, target


def check_loss(loss, expected, logits, target, eps, what):
    check_shape(loss, (), what)
    if loss.dtype == torch.float32 and not torch.allclose(loss, expected, atol=1e-4):
        c = logits.size(-1)
        logp = torch.log_softmax(logits.double(), -1)
        nll = -logp.gather(-1, target[:, None]).squeeze(-1)
        others = (-logp.sum(-1) - nll) / (c - 1)
        if torch.isclose(loss.double(), ((1 - eps) * nll + eps * others).mean(), atol=1e-5):
            check(
                False,
                f"{what}: eps was spread over the C - 1 wrong classes only; PyTorch spreads it "
                "over all C classes (eps / C each, the correct one included)",
            )
        full = ((1 - eps) * nll + eps * -logp.mean(-1)).sum()
        if torch.isclose(loss.double(), full, atol=1e-4):
            check(False, f"{what}: this is the sum over the batch; take the mean")
    check_close(loss, expected, what)


@case(
    "eps = 0 is plain cross-entropy: logits [2, 1, 0], target 0",
    zh="eps = 0 即普通交叉熵：logits [2, 1, 0]，目标类 0",
    visible=True,
)
def plain(fn, ref):
    logits, target = torch.tensor([[2.0, 1.0, 0.0]]), torch.tensor([0])
    # -log softmax([2, 1, 0])[0] = log(e² + e + 1) - 2
    check_loss(fn(logits, target, 0.0), torch.tensor(0.407606), logits, target, 0.0, "loss")


@case("eps = 0.1 on the same example", zh="同一例子取 eps = 0.1", visible=True)
def worked(fn, ref):
    logits, target = torch.tensor([[2.0, 1.0, 0.0]]), torch.tensor([0])
    # 0.9 × 0.4076 + 0.1 × mean(0.4076, 1.4076, 2.4076) = 0.5076
    check_loss(fn(logits, target, 0.1), torch.tensor(0.507606), logits, target, 0.1, "loss")


@case("the uniform part gives eps / C to every class", zh="均匀分布部分给每个类别 eps / C")
def uniform_part(fn, ref):
    logits, target = data(0, c=4)
    check_loss(
        fn(logits, target, 0.3), ref(logits, target, 0.3), logits, target, 0.3, "loss with eps=0.3"
    )


@case("the mean over the batch", zh="损失为整个批次的平均值")
def batch_mean(fn, ref):
    logits, target = data(1, n=16, c=7)
    check_loss(fn(logits, target, 0.1), ref(logits, target, 0.1), logits, target, 0.1, "loss")


@case("large logits (×1e4) stay finite", zh="放大 1e4 倍的 logits 仍得到有限值")
def large(fn, ref):
    logits, target = data(2, scale=1e4)
    loss = fn(logits, target, 0.1)
    check_shape(loss, (), "loss")
    check(
        bool(torch.isfinite(loss)),
        f"loss is {loss.item()} for logits around 1e4: log(softmax(x)) underflows to log(0); "
        "use torch.log_softmax or x - logsumexp(x)",
    )
    check_close(loss, ref(logits, target, 0.1), "loss", rtol=1e-5)


@case("float64 and float16 keep their dtype", zh="float64 与 float16 输入保持原 dtype")
def dtypes(fn, ref):
    for dtype in (torch.float64, torch.float16):
        logits, target = data(3, dtype=dtype)
        name = dtype_name(dtype)
        check_close(fn(logits, target, 0.2), ref(logits, target, 0.2), f"loss ({name})")


@case("the gradient with respect to the logits", zh="对 logits 的梯度")
def gradient(fn, ref):
    grads = []
    for f in (ref, fn):
        logits, target = data(4, n=5, c=6)
        logits.requires_grad_()
        f(logits, target, 0.1).backward()
        grads.append(logits.grad)
    check_grads(grads[1:], grads[:1], ["logits"])
