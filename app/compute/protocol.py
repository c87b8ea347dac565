"""Messages between the web processes, the supervisor and its workers: length-prefixed JSON.

Each frame is a 4-byte big-endian length and a UTF-8 JSON object. Results carry the demo's JSON
as a string (``result_json``) so it is serialised once, in the worker, and passed through as is.
"""

from __future__ import annotations

import asyncio
import json
import socket
import struct
from typing import Any, Literal

from pydantic import BaseModel, Field

MAX_FRAME = 64 << 20  # a demo result is at most a few MB; anything larger is a broken peer
_LEN = struct.Struct(">I")


class ProtocolError(RuntimeError):
    pass


class DemoJob(BaseModel):
    kind: Literal["demo"] = "demo"
    demo_id: str
    params: dict[str, Any]
    seed: int
    # Ask for {"progress": {...}} frames before the reply (long demos report as they go).
    stream: bool = False


class DrillJob(BaseModel):
    kind: Literal["drill"] = "drill"
    drill_id: str
    submission: str
    reference: str
    tests: str
    entry: str
    wall_s: float = Field(gt=0, le=60)


class FitJob(BaseModel):
    """Fit a member's FSRS weights to their review log, or simulate the workload at each desired
    retention (app/compute/fit.py). Runs for up to ``timeout_s``, its own bound: a fit over
    thousands of reviews takes far longer than a demo, and must still end."""

    kind: Literal["fit"] = "fit"
    task: Literal["fit", "workload"] = "fit"
    # (card number, rating 1-4, unix time of the review, milliseconds spent or None)
    reviews: list[tuple[int, int, float, int | None]] = Field(max_length=200_000)
    parameters: list[float] | None = Field(None, min_length=21, max_length=21)
    bank_size: int = Field(0, ge=0, le=100_000)
    timeout_s: float = Field(120.0, gt=0, le=300)


class JobReply(BaseModel):
    """What a job came to. ``error`` is None on success; otherwise one of the codes below, and
    ``message`` says what happened in a sentence a learner can read."""

    error: Literal["busy", "timeout", "memory", "crashed", "failed", "unavailable"] | None = None
    message: str = ""
    result_json: str | None = None
    cached: bool = False
    compute_ms: float = 0.0
    retry_after_s: int | None = None


def encode(obj: BaseModel | dict) -> bytes:
    body = (obj.model_dump_json() if isinstance(obj, BaseModel) else json.dumps(obj)).encode()
    return _LEN.pack(len(body)) + body


def _check(n: int) -> int:
    if n > MAX_FRAME:
        raise ProtocolError(f"frame of {n} bytes is over the {MAX_FRAME} limit")
    return n


async def read_frame(reader: asyncio.StreamReader) -> dict:
    head = await reader.readexactly(_LEN.size)
    body = await reader.readexactly(_check(_LEN.unpack(head)[0]))
    return json.loads(body)


def recv_frame(sock: socket.socket) -> dict | None:
    """Blocking read of one frame; None when the peer closed the connection."""
    head = _recv_exactly(sock, _LEN.size)
    if head is None:
        return None
    body = _recv_exactly(sock, _check(_LEN.unpack(head)[0]))
    if body is None:
        raise ProtocolError("peer closed mid-frame")
    return json.loads(body)


def _recv_exactly(sock: socket.socket, n: int) -> bytes | None:
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            return None if not buf else bytes(buf)
        buf += chunk
    return bytes(buf)
