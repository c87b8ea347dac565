"""Every registered demo through the API: listed with its schema, runs at defaults, caches, and
refuses out-of-range parameters with a 422 that names the allowed range."""

from __future__ import annotations

import pytest

from app.demos import REGISTRY, load_all

load_all()
DEMO_IDS = sorted(REGISTRY)


def bounded_fields():
    for demo_id in DEMO_IDS:
        props = REGISTRY[demo_id].params.model_json_schema().get("properties", {})
        for name, prop in props.items():
            if prop.get("type") in ("integer", "number"):
                yield demo_id, name, prop


def test_every_numeric_param_is_bounded():
    for demo_id, name, prop in bounded_fields():
        assert "minimum" in prop or "exclusiveMinimum" in prop, (demo_id, name)
        assert "maximum" in prop or "exclusiveMaximum" in prop, (demo_id, name)


def test_list_demos_with_schemas(client):
    listed = {d["id"]: d for d in client.get("/api/demos").json()}
    assert set(listed) == set(DEMO_IDS)
    for d in listed.values():
        assert d["title"]["zh"] and d["title"]["en"] and "properties" in d["params_schema"]


@pytest.mark.parametrize("demo_id", DEMO_IDS)
def test_runs_at_defaults_then_hits_the_cache(client, demo_id):
    r = client.post(f"/api/demos/{demo_id}", json={})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["result"]["conclusion"]["zh"] and body["result"]["conclusion"]["en"]
    assert body["cached"] is False
    again = client.post(f"/api/demos/{demo_id}", json={}).json()
    assert again["cached"] is True and again["result"] == body["result"]


@pytest.mark.parametrize(("demo_id", "name", "prop"), list(bounded_fields()))
def test_out_of_range_param_is_422_naming_the_range(client, demo_id, name, prop):
    hi = prop.get("maximum")
    lo = prop.get("minimum")
    # A step past the bound that float rounding cannot swallow (1e38 + 1 == 1e38).
    bad = ([hi + max(1, abs(hi))] if hi is not None else []) + (
        [lo - max(1, abs(lo))] if lo is not None else []
    )
    lo_txt = f"> {prop['exclusiveMinimum']}" if "exclusiveMinimum" in prop else lo
    hi_txt = f"< {prop['exclusiveMaximum']}" if "exclusiveMaximum" in prop else hi
    for value in bad:
        r = client.post(f"/api/demos/{demo_id}", json={name: value})
        assert r.status_code == 422, (name, value, r.text)
        (err,) = r.json()["detail"]
        assert err["loc"] == ["body", name]
        assert f"allowed {name}: {lo_txt} to {hi_txt}" in err["msg"], err["msg"]


@pytest.mark.parametrize("demo_id", DEMO_IDS)
def test_unknown_param_is_422(client, demo_id):
    r = client.post(f"/api/demos/{demo_id}", json={"no_such_param": 1})
    assert r.status_code == 422


def test_unknown_demo_is_404(client):
    assert client.post("/api/demos/nope", json={}).status_code == 404


def test_seed_bounds(client):
    assert client.post("/api/demos/scaling-variance?seed=-1", json={}).status_code == 422


def test_demo_page_form_post_without_js(raw_client):
    html = raw_client.get("/demos/scaling-variance").text
    token = html.split('name="csrf_token" value="')[1].split('"')[0]
    r = raw_client.post(
        "/demos/scaling-variance/run",
        data={"d_k": "16", "seed": "3", "csrf_token": token},
        follow_redirects=False,
    )
    # Post/Redirect/Get: the run's page has the parameters in its address (reload, bookmark).
    assert r.status_code == 303
    assert r.headers["location"] == "/demos/scaling-variance?d_k=16&seed=3"
    r = raw_client.get(r.headers["location"])
    assert r.status_code == 200 and "var(q·k)" in r.text and "chart-data" in r.text
    r = raw_client.post("/demos/scaling-variance/run", data={"d_k": "99999", "csrf_token": token})
    assert r.status_code == 422 and "d_k: " in r.text and "allowed: 1 – 4096" in r.text


def test_demo_partial_for_htmx(client):
    r = client.post(
        "/demos/scaling-variance/run", data={"d_k": "16"}, headers={"HX-Request": "true"}
    )
    assert r.status_code == 200 and "<html" not in r.text and 'class="result"' in r.text


def test_demo_device_selection(monkeypatch):
    import torch

    from app.compute.worker import pick_device

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert pick_device("auto") == "cpu" and pick_device("cpu") == "cpu"
    with pytest.raises(RuntimeError, match="no GPU"):
        pick_device("cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert pick_device("auto") == "cuda" and pick_device("cpu") == "cpu"


def test_the_cli_and_the_app_run_demos_on_one_pool(client):
    """The runner the CLI and benchmarks use is the app's: the same pool, the same results."""
    runner = client.app.state.demos
    info = runner.run_sync(
        "scaling-variance", runner.validate("scaling-variance", {"samples": 200}), 1
    )
    api = client.post("/api/demos/scaling-variance?seed=1", json={"samples": 200}).json()
    assert info.result.scalar("var_unscaled") > 0
    assert api["result"] == info.result.model_dump(mode="json") and api["cached"]
    # (The CUDA path cannot run on this machine: it has no GPU.)


def test_start_up_does_not_import_torch(tmp_path):
    """Torch is most of a cold start and no page needs it: the app, the registry and every
    demo's parameter model load without it (a demo default like ``dtype=torch.float64`` would
    silently undo that). Checked in a fresh interpreter."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from app.config import Settings\n"
        "from app.main import create_app\n"
        f"app = create_app(Settings(data_dir={str(tmp_path)!r}))\n"
        "from app.demos import REGISTRY\n"
        "[d.params() for d in REGISTRY.values()]\n"
        "assert len(REGISTRY) >= 18\n"
        "print('torch' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False", out.stderr


def test_a_busy_pool_is_a_503_with_retry_after(client, monkeypatch):
    from app.compute.protocol import JobReply

    async def busy(job):
        return JobReply(error="busy", message="the compute pool is full", retry_after_s=2)

    monkeypatch.setattr(client.app.state.pool, "submit", busy)
    r = client.post("/api/demos/scaling-variance?seed=4242", json={})
    assert r.status_code == 503 and r.headers["retry-after"] == "2"
    assert "full" in r.json()["detail"]


def test_a_long_demo_streams_its_progress_then_the_result(client):
    import json

    listed = {d["id"]: d for d in client.get("/api/demos").json()}
    assert listed["tiny-transformer"]["streams"] and not listed["causal-mask"]["streams"]
    body = {"steps": 20, "batch": 8, "d_model": 16, "seq_len": 5}
    with client.stream("POST", "/api/demos/tiny-transformer/stream?seed=5", json=body) as r:
        assert r.status_code == 200
        lines = [json.loads(line) for line in r.iter_lines() if line]
    progress = [x["progress"] for x in lines if "progress" in x]
    assert progress and progress[-1]["done"] == progress[-1]["total"] == 20
    assert [p["done"] for p in progress] == sorted(p["done"] for p in progress)
    assert "result" in lines[-1] and lines[-1]["result"]["demo_id"] == "tiny-transformer"
    # The same run afterwards is the cached result: identical.
    again = client.post("/api/demos/tiny-transformer?seed=5", json=body).json()
    assert again["cached"] and again["result"] == lines[-1]["result"]["result"]
    bad = client.post("/api/demos/tiny-transformer/stream", json={"steps": 10**6})
    assert bad.status_code == 422
