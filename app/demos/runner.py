"""Runs demos for the web layer: validated, cached, off the event loop, bounded in concurrency.

The demo functions themselves stay pure; everything about serving them lives here.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import anyio
from pydantic import BaseModel

from app.demos import REGISTRY, Demo, DemoParams, DemoResult, load_all
from app.demos._lazy import torch


def pick_device(setting: str) -> str:
    """ "auto" → "cuda" when torch sees a GPU, else "cpu"; "cuda" without one is an error."""
    if setting == "cpu":
        return "cpu"
    if torch.cuda.is_available():
        return "cuda"
    if setting == "cuda":
        raise RuntimeError("TQ_DEMO_DEVICE=cuda but torch sees no GPU")
    return "cpu"


class DemoNotFound(KeyError):
    pass


class DemoTimeout(RuntimeError):
    pass


class RunInfo(BaseModel):
    demo_id: str
    seed: int
    params: dict[str, Any]
    cached: bool
    elapsed_ms: float
    result: DemoResult


class DemoRunner:
    """One per app. ``concurrency`` demos compute at once; the rest wait their turn."""

    def __init__(
        self,
        *,
        concurrency: int = 2,
        threads: int = 1,
        cache_size: int = 256,
        timeout_s: float = 20.0,
        device: str = "auto",
    ):
        load_all()
        self._device_setting = device
        self._threads = threads
        self._device: str | None = None
        self._ready = threading.Lock()
        if device == "cuda":
            self.prepare()  # asked for a GPU: fail at start-up, not at the first demo
        self._limiter = anyio.CapacityLimiter(concurrency)
        self._cache: OrderedDict[tuple[str, str, int], DemoResult] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()
        self.timeout_s = timeout_s

    def prepare(self) -> str:
        """Import torch, size its thread pool and choose the device, once. Torch is not imported
        at start-up (see app.demos._lazy); the app calls this from a background thread."""
        with self._ready:
            if self._device is None:
                # A shared 2-core box: a demo must not take every core from the web workers.
                torch.set_num_threads(self._threads)
                self._device = pick_device(self._device_setting)
            return self._device

    def warm_up(self, then: Callable[[], object] | None = None) -> threading.Thread:
        """:meth:`prepare` in a background thread, then ``then`` (if given) in that thread."""

        def work() -> None:
            self.prepare()
            if then is not None:
                then()

        t = threading.Thread(target=work, name="torch-warm-up", daemon=True)
        t.start()
        return t

    @property
    def device(self) -> str:
        return self.prepare()

    @staticmethod
    def all() -> list[Demo]:
        return list(REGISTRY.values())

    @staticmethod
    def demo(demo_id: str) -> Demo:
        try:
            return REGISTRY[demo_id]
        except KeyError:
            raise DemoNotFound(demo_id) from None

    def validate(self, demo_id: str, params: dict[str, Any]) -> DemoParams:
        """Raises pydantic.ValidationError (→ 422) for out-of-range or unknown params."""
        return self.demo(demo_id).params.model_validate(params)

    def _key(self, demo_id: str, p: DemoParams, seed: int) -> tuple[str, str, int]:
        return (demo_id, p.model_dump_json(), seed)

    def cached(self, demo_id: str, p: DemoParams, seed: int) -> DemoResult | None:
        key = self._key(demo_id, p, seed)
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
            return hit

    def _store(self, demo_id: str, p: DemoParams, seed: int, result: DemoResult) -> None:
        with self._lock:
            self._cache[self._key(demo_id, p, seed)] = result
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)

    def run_sync(self, demo_id: str, p: DemoParams, seed: int = 0) -> RunInfo:
        """Blocking run (CLI, benchmarks, tests)."""
        t0 = time.perf_counter()
        hit = self.cached(demo_id, p, seed)
        if hit is None:
            # Tensors a demo creates land on the chosen device (a thread-local default). The
            # device context is a TorchFunctionMode that intercepts every torch call, so it is
            # entered only when it changes something: on CPU it would tax each op for nothing.
            device = self.device
            ctx = torch.device(device) if device != "cpu" else contextlib.nullcontext()
            with ctx:
                hit = self.demo(demo_id).run(p, seed)
            self._store(demo_id, p, seed, hit)
            cached = False
        else:
            cached = True
        return RunInfo(
            demo_id=demo_id,
            seed=seed,
            params=p.model_dump(),
            cached=cached,
            elapsed_ms=(time.perf_counter() - t0) * 1000,
            result=hit,
        )

    async def run(self, demo_id: str, p: DemoParams, seed: int = 0) -> RunInfo:
        if self.cached(demo_id, p, seed) is not None:
            return self.run_sync(demo_id, p, seed)
        try:
            return await asyncio.wait_for(
                anyio.to_thread.run_sync(self.run_sync, demo_id, p, seed, limiter=self._limiter),
                timeout=self.timeout_s,
            )
        except TimeoutError:
            raise DemoTimeout(demo_id) from None
