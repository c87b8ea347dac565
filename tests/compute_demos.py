"""Misbehaving demos for the compute pool's tests. Imported only by a test pool's supervisor
(``--extra-module``), never into the test process: the web side cannot ask for them."""

from __future__ import annotations

import os
import signal
import time

from pydantic import Field

from app.bank.models import Localized as L
from app.demos import DemoParams, DemoResult, register

_T = L(zh="测试", en="test")


class Sleep(DemoParams):
    seconds: float = Field(1.0, ge=0, le=600)


@register("test-sleep", title=_T, description=_T, params=Sleep)
def sleep(p: Sleep, seed: int) -> DemoResult:
    time.sleep(p.seconds)
    return DemoResult(conclusion=L(zh="醒了", en=f"slept {p.seconds}"))


class Alloc(DemoParams):
    mb: int = Field(100, ge=1, le=1 << 20)


@register("test-alloc", title=_T, description=_T, params=Alloc)
def alloc(p: Alloc, seed: int) -> DemoResult:
    from app.demos._lazy import torch

    t = torch.ones(p.mb * 2**20 // 4)  # float32: touched, so really resident
    return DemoResult(conclusion=L(zh="好", en=f"allocated {t.numel() * 4 >> 20} MB"))


class Nothing(DemoParams):
    pass


@register("test-segfault", title=_T, description=_T, params=Nothing)
def segfault(p: Nothing, seed: int) -> DemoResult:
    os.kill(os.getpid(), signal.SIGSEGV)
    raise AssertionError("unreachable")


@register("test-pid", title=_T, description=_T, params=Nothing)
def pid(p: Nothing, seed: int) -> DemoResult:
    return DemoResult(conclusion=L(zh=str(os.getpid()), en=str(os.getpid())))


@register("test-modules", title=_T, description=_T, params=Nothing)
def modules(p: Nothing, seed: int) -> DemoResult:
    """The modules a worker holds before its job imports anything."""
    import sys

    names = " ".join(sorted(sys.modules))
    return DemoResult(conclusion=L(zh=names, en=names))
