import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from app.demos.noam_schedule import Params, noam, run


def test_peak_at_warmup_with_the_papers_value():
    p = Params()
    r = run(p, 0)
    assert r.scalar("peak_step") == 4000
    assert r.scalar("peak_lr") == pytest.approx(512**-0.5 * 4000**-0.5)
    assert noam(3999, p) < noam(4000, p) > noam(4001, p)
    ys = r.charts[0].series[0].y
    top = max(range(len(ys)), key=ys.__getitem__)
    assert abs(r.charts[0].series[0].x[top] - 4000) <= 100  # the plotted curve peaks there too


def test_linear_rise_then_inverse_sqrt_decay():
    p = Params(warmup=100, steps=1000)
    assert noam(50, p) == pytest.approx(noam(100, p) / 2)
    assert noam(400, p) == pytest.approx(noam(100, p) / 2)


def test_a_training_loop_applies_the_formula():
    # What the demo once ran itself: Adam driven by LambdaLR gets exactly noam(step).
    import torch

    p = Params(warmup=50, steps=200)
    w = torch.zeros(1, requires_grad=True)
    opt = torch.optim.Adam([w], lr=1.0, betas=(0.9, 0.98), eps=1e-9)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: noam(s + 1, p))
    for step in range(1, 201):
        assert opt.param_groups[0]["lr"] == pytest.approx(noam(step, p), rel=1e-12)
        opt.step()
        sched.step()


def test_same_result_as_when_it_ran_an_optimizer():
    # Recorded from the Adam + LambdaLR version at the defaults, seed 0.
    r = run(Params(), 0)
    assert r.scalar("peak_lr") == 0.0006987712429686843
    assert r.scalar("lr_at_end") == 0.0003125
    xs, ys = r.charts[0].series[0].x, r.charts[0].series[0].y
    assert len(xs) == 201 and xs[:3] == [1, 100, 200] and xs[-1] == 20_000
    assert sum(ys) == pytest.approx(0.08323081286890974, rel=1e-12)


def test_running_it_does_not_import_torch_dynamo():
    code = (
        "import sys; from app.demos.noam_schedule import Params, run; run(Params(), 0); "
        "print(sorted(m for m in ('torch._dynamo', 'sympy', 'torch') if m in sys.modules))"
    )
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"  # not even torch: the schedule is arithmetic


def test_deterministic():
    assert run(Params(steps=500, warmup=50), 0) == run(Params(steps=500, warmup=50), 0)


@pytest.mark.parametrize("bad", [{"warmup": 0}, {"d_model": 8}, {"steps": 10**7}, {"factor": 0}])
def test_out_of_range(bad):
    with pytest.raises(ValidationError):
        Params(**bad)
