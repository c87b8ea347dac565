"""Every demo at its default parameters: raw compute vs served cold vs served cached.

raw    = the demo function alone (median of --repeat runs, after one warm-up run)
cold   = POST /api/demos/{id} with a seed not seen before (validation, thread hop, compute, JSON)
cached = the same POST again (LRU hit)
Ratios are measured in this one run, on this machine; targets: cold < 100 ms, cached < 5 ms.

    python bench/demos.py [--repeat 5] [--markdown]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from fastapi.testclient import TestClient

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.config import Settings  # noqa: E402
from app.demos import REGISTRY, load_all  # noqa: E402
from app.main import create_app  # noqa: E402


def _ms(fn, *args, **kw) -> float:
    t0 = time.perf_counter()
    fn(*args, **kw)
    return (time.perf_counter() - t0) * 1000


def bench_one(client: TestClient, headers: dict, demo_id: str, repeat: int):
    demo = REGISTRY[demo_id]
    p = demo.params()
    demo.run(p, 0)  # warm-up: first-call kernel/dispatch costs are not the demo's
    raw = statistics.median(_ms(demo.run, p, 1) for _ in range(repeat))
    url = f"/api/demos/{demo_id}?seed=12345"
    post = client.post
    cold = _ms(post, url, json={}, headers=headers)
    cached = statistics.median(_ms(post, url, json={}, headers=headers) for _ in range(repeat))
    return demo_id, raw, cold, cached


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = ap.parse_args()

    load_all()
    tmp = Path(tempfile.mkdtemp(prefix="tq-bench-"))
    settings = Settings(data_dir=tmp, questions_dir=ROOT / "questions", _env_file=None)
    app = create_app(settings)
    rows = []
    with TestClient(app) as client:
        token = client.get("/healthz").cookies.get("tq_csrf") or client.cookies.get("tq_csrf")
        headers = {"X-CSRF-Token": token} if token else {}
        for demo_id in sorted(REGISTRY):
            rows.append(bench_one(client, headers, demo_id, args.repeat))

    head = ["demo", "raw ms", "cold ms", "cached ms", "cold/raw", "cached/raw"]
    lines = []
    for demo_id, raw, cold, cached in rows:
        lines.append(
            [
                demo_id,
                f"{raw:.1f}",
                f"{cold:.1f}",
                f"{cached:.2f}",
                f"{cold / raw:.2f}",
                f"{cached / raw:.3f}",
            ]
        )
    if args.markdown:
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" * len(head))
        for r in lines:
            print("| " + " | ".join(r) + " |")
    else:
        widths = [max(len(h), *(len(r[i]) for r in lines)) for i, h in enumerate(head)]
        print("  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)))
        for r in lines:
            print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)))
    slow = [d for d, _, cold, _ in rows if cold >= 100]
    slow_cache = [d for d, *_, cached in rows if cached >= 5]
    print(
        f"\n{len(rows)} demos; cold >= 100 ms: {slow or 'none'}; cached >= 5 ms: {slow_cache or 'none'}"
    )


if __name__ == "__main__":
    main()
