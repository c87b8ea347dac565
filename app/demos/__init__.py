"""The demo registry: each demo is one module in this package that calls :func:`register`.

A demo is a pure function ``run(params, seed) -> DemoResult`` of validated parameters and a seed.
Modules are discovered automatically (:func:`load_all`), so adding a demo touches no other file.
"""

from __future__ import annotations

import contextlib
import contextvars
import importlib
import math
import pkgutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.bank.models import Localized
from app.demos._lazy import torch

Number = float | int


def _finite(v):
    """JSON has no NaN or infinity: a non-finite number in a table, series or heatmap becomes
    null (a gap), so a demo that shows a NaN (say, a fully masked softmax row) still serialises."""
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, list):
        return [_finite(x) for x in v]
    return v


class Scalar(BaseModel):
    key: str
    label: Localized
    value: Number | bool | str
    unit: str | None = None

    @field_validator("value")
    @classmethod
    def _spell_non_finite(cls, v):
        # A scalar keeps its meaning as text: "nan", "inf", "-inf".
        return str(v) if isinstance(v, float) and not math.isfinite(v) else v


class Table(BaseModel):
    title: Localized
    columns: list[str]
    rows: list[list[Number | bool | str | None]]

    _rows = field_validator("rows")(classmethod(lambda cls, v: _finite(v)))


class Series(BaseModel):
    name: str
    x: list[Number]
    y: list[Number | None]

    _y = field_validator("y")(classmethod(lambda cls, v: _finite(v)))


class Chart(BaseModel):
    title: Localized
    kind: Literal["line", "bar"] = "line"
    x_label: str = ""
    y_label: str = ""
    log_x: bool = False
    log_y: bool = False
    series: list[Series]


class Heatmap(BaseModel):
    title: Localized
    matrix: list[list[Number | None]]

    _matrix = field_validator("matrix")(classmethod(lambda cls, v: _finite(v)))
    row_labels: list[str] | None = None
    col_labels: list[str] | None = None
    # Axis titles, as for charts: x names the columns, y the rows ("" = none shown).
    x_label: str = ""
    y_label: str = ""


class DemoResult(BaseModel):
    """What a demo shows: numbers, tables, charts and heatmaps, and a conclusion drawn from them."""

    conclusion: Localized
    scalars: list[Scalar] = Field(default_factory=list)
    tables: list[Table] = Field(default_factory=list)
    charts: list[Chart] = Field(default_factory=list)
    heatmaps: list[Heatmap] = Field(default_factory=list)

    def scalar(self, key: str) -> Number | bool | str:
        for s in self.scalars:
            if s.key == key:
                return s.value
        raise KeyError(key)


class DemoParams(BaseModel):
    """Base of every demo's parameter model: unknown fields are an error, not ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


RunFn = Callable[[DemoParams, int], DemoResult]


@dataclass(frozen=True)
class Demo:
    id: str
    title: Localized
    description: Localized
    params: type[DemoParams]
    run: RunFn
    serves: tuple[str, ...] = field(default=())  # soul question numbers / topics, e.g. "Q4"
    streams: bool = False  # reports progress (report_progress): the page shows it as it runs


REGISTRY: dict[str, Demo] = {}

# Progress of a long demo (tiny-transformer trains for seconds): a side channel that changes
# nothing in the result, so the demo stays a pure function. The compute worker sets the callback
# when a client asked to stream; otherwise reporting is a no-op.
_progress: contextvars.ContextVar[Callable[[dict], None] | None] = contextvars.ContextVar(
    "demo_progress", default=None
)


def report_progress(done: int, total: int, **info: float | int | str) -> None:
    cb = _progress.get()
    if cb is not None:
        cb({"done": done, "total": total, **info})


@contextlib.contextmanager
def progress_to(callback: Callable[[dict], None] | None) -> Iterator[None]:
    token = _progress.set(callback)
    try:
        yield
    finally:
        _progress.reset(token)


def register(
    id: str,
    *,
    title: Localized,
    description: Localized,
    params: type[DemoParams],
    serves: tuple[str, ...] = (),
    streams: bool = False,
) -> Callable[[RunFn], RunFn]:
    def deco(fn: RunFn) -> RunFn:
        if id in REGISTRY:
            raise ValueError(f"demo id {id!r} registered twice")
        REGISTRY[id] = Demo(id, title, description, params, fn, serves, streams)
        return fn

    return deco


def load_all() -> dict[str, Demo]:
    """Import every module in this package so each registers its demo."""
    for mod in pkgutil.iter_modules(__path__):
        if not mod.name.startswith("_") and mod.name != "runner":
            importlib.import_module(f"{__name__}.{mod.name}")
    return REGISTRY


def generator(seed: int) -> torch.Generator:
    """A private RNG: demos draw from this, never from torch's global RNG, so concurrent runs
    cannot disturb each other's numbers. It lives on the device the runner chose (CPU or CUDA)."""
    return torch.Generator(device=torch.get_default_device()).manual_seed(seed)


# How many numbers a chunked demo draws at a time (16 MB in float32), whatever the parameters.
CHUNK_NUMBERS = 4_000_000


def draw_normal(buf: torch.Tensor, shape: tuple[int, ...], g: torch.Generator) -> torch.Tensor:
    """N(0, 1) numbers of ``shape`` drawn into the front of ``buf``, a buffer of CHUNK_NUMBERS
    reused by every chunk of a run. Fresh tensors per chunk made glibc grow the heap chunk after
    chunk (300-400 MB at the largest inputs); reuse keeps a run at its buffers' size."""
    return buf[: math.prod(shape)].view(shape).normal_(generator=g)


_GLOBAL_RNG_LOCK = threading.Lock()


@contextlib.contextmanager
def seeded_global_rng(seed: int) -> Iterator[None]:
    """For code that can only use torch's global RNG (``nn.Module`` constructors, dropout):
    holds a lock, seeds, and restores the previous RNG state afterwards."""
    with _GLOBAL_RNG_LOCK, torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield
