"""Runs demos for the web layer and the CLI: validated here, computed in the compute pool.

The web process never imports torch: parameters are validated against the demo's pydantic model
(torch-free), then the job goes to a warm worker process (``app.compute``), whose bounds, cache and
recycling live there. This is the one way demos run: the pages, the API, the CLI and the tests.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from pydantic import BaseModel

from app.compute.client import ComputePool
from app.compute.protocol import DemoJob, JobReply
from app.demos import REGISTRY, Demo, DemoParams, DemoResult, load_all


class DemoNotFound(KeyError):
    pass


class DemoFailed(RuntimeError):
    """The pool could not produce a result. ``reply.error`` says why (busy, timeout, memory,
    crashed, failed, unavailable); ``retry_after_s`` is set when trying again later can help."""

    def __init__(self, reply: JobReply):
        super().__init__(reply.message)
        self.reply = reply

    @property
    def code(self) -> str:
        return self.reply.error or "failed"

    @property
    def retry_after_s(self) -> int | None:
        return self.reply.retry_after_s


class RunInfo(BaseModel):
    demo_id: str
    seed: int
    params: dict[str, Any]
    cached: bool
    elapsed_ms: float
    result: DemoResult


class DemoRunner:
    def __init__(self, pool: ComputePool):
        load_all()
        self.pool = pool

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

    @staticmethod
    def _job(demo_id: str, p: DemoParams, seed: int) -> DemoJob:
        return DemoJob(demo_id=demo_id, params=p.model_dump(mode="json"), seed=seed)

    def _info(self, demo_id: str, p: DemoParams, seed: int, reply: JobReply) -> RunInfo:
        if reply.error is not None or reply.result_json is None:
            raise DemoFailed(reply)
        return RunInfo(
            demo_id=demo_id,
            seed=seed,
            params=p.model_dump(),
            cached=reply.cached,
            elapsed_ms=reply.compute_ms,
            result=DemoResult.model_validate_json(reply.result_json),
        )

    async def run(self, demo_id: str, p: DemoParams, seed: int = 0) -> RunInfo:
        return self._info(demo_id, p, seed, await self.pool.submit(self._job(demo_id, p, seed)))

    async def run_stream(
        self, demo_id: str, p: DemoParams, seed: int = 0
    ) -> AsyncIterator[dict | RunInfo]:
        """Progress dicts while the demo runs, then its RunInfo (raises DemoFailed)."""
        job = self._job(demo_id, p, seed).model_copy(update={"stream": True})
        async for item in self.pool.submit_stream(job):
            if isinstance(item, JobReply):
                yield self._info(demo_id, p, seed, item)
            else:
                yield item

    def run_sync(self, demo_id: str, p: DemoParams, seed: int = 0) -> RunInfo:
        """Blocking run (CLI, benchmarks, tests): the same pool, the same path."""
        return self._info(demo_id, p, seed, self.pool.submit_sync(self._job(demo_id, p, seed)))
