"""The pool's bounds, one model shared by the web side (from Settings) and the supervisor (as JSON)."""

from __future__ import annotations

import os
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


def default_workers() -> int:
    """One fewer than the cores this process may use, at least 1, at most 4. On a 2-core VPS two
    busy compute workers left the web process fighting for both cores (and their shared caches):
    /api/next's p99 under a demo flood was ~2× idle with two workers, ~1.3× with one."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 2
    return max(1, min(4, cores - 1))


class PoolLimits(BaseModel):
    """Defaults fit a 2-core, 2 GB VPS: one worker there (a core stays the web side's), of at most
    ~1 GB, one torch thread, waiting while nobody computes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    workers: int = Field(
        default_factory=default_workers,
        ge=1,
        le=64,
        description="Most worker processes at once (default: one core left to the web side).",
    )
    warm_workers: int = Field(
        1, ge=1, le=64, description="Workers kept forked and waiting while the pool is idle."
    )
    idle_retire_s: float = Field(
        10.0, gt=0, le=3600, description="A worker idle this long after jobs is replaced fresh."
    )
    threads: int = Field(1, ge=1, le=64, description="torch threads per job.")
    nice: int = Field(
        10, ge=0, le=19, description="Workers' CPU niceness: the web side wins the cores."
    )
    job_timeout_s: float = Field(20.0, gt=0, le=600, description="Wall clock per demo job.")
    worker_memory_mb: int = Field(
        768, ge=64, le=1 << 20, description="Address space a worker may add after start."
    )
    recycle_after_jobs: int = Field(200, ge=1, description="Replace a worker after this many jobs.")
    recycle_rss_mb: int = Field(600, ge=64, description="Replace a worker whose RSS passes this.")
    queue_max: int = Field(16, ge=0, le=10_000, description="Jobs waiting beyond busy workers.")
    cache_mb: int = Field(64, ge=0, le=4096, description="Demo results kept, shared by the host.")
    device: Literal["auto", "cpu", "cuda"] = "auto"
    # Drills (a learner's code): a fresh child of a worker per submission.
    drill_memory_mb: int = Field(512, ge=64, le=1 << 20)
    drill_output_kb: int = Field(16, ge=1, le=1024, description="stdout/stderr kept per run.")
    drill_file_kb: int = Field(1024, ge=0, le=1 << 20, description="Largest file a run may write.")
    drill_allow_weak_sandbox: bool = Field(
        False, description="Run drills even where seccomp or Landlock is missing (not advised)."
    )
