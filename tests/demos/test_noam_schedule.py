import pytest
from pydantic import ValidationError

from app.demos.noam_schedule import Params, noam, run


def test_peak_at_warmup_with_the_papers_value():
    p = Params()
    r = run(p, 0)
    assert r.scalar("peak_step") == 4000
    assert r.scalar("peak_lr") == pytest.approx(512**-0.5 * 4000**-0.5)
    assert noam(3999, p) < noam(4000, p) > noam(4001, p)
    assert r.scalar("optimizer_vs_formula") < 1e-12
    ys = r.charts[0].series[0].y
    top = max(range(len(ys)), key=ys.__getitem__)
    assert abs(r.charts[0].series[0].x[top] - 4000) <= 100  # the plotted curve peaks there too


def test_linear_rise_then_inverse_sqrt_decay():
    p = Params(warmup=100, steps=1000)
    assert noam(50, p) == pytest.approx(noam(100, p) / 2)
    assert noam(400, p) == pytest.approx(noam(100, p) / 2)


def test_deterministic():
    assert run(Params(steps=500, warmup=50), 0) == run(Params(steps=500, warmup=50), 0)


@pytest.mark.parametrize("bad", [{"warmup": 0}, {"d_model": 8}, {"steps": 10**7}, {"factor": 0}])
def test_out_of_range(bad):
    with pytest.raises(ValidationError):
        Params(**bad)
