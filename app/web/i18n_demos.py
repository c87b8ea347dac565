"""A Babel extractor for the demos' parameter descriptions, so that a demo's form is read in the
reader's language: each demo's ``Params`` model describes its fields in English (``Field(...,
description=...)``); those sentences become messages of the catalog (the English one its own
translation) and the form shows them through ``t``. babel.cfg maps ``app/demos/__init__.py`` to
``extract_demo_params``; a new parameter's description is one more message to translate."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def demo_param_descriptions() -> dict[str, list[str]]:
    """Each description, with where it is used (``demo-id.param``)."""
    from app.demos import load_all  # the registry only: no torch

    found: dict[str, list[str]] = {}
    for demo_id, demo in sorted(load_all().items()):
        for name, field in demo.params.model_fields.items():
            if field.description:
                found.setdefault(field.description, []).append(f"{demo_id}.{name}")
    return found


def extract_demo_params(
    fileobj: Any, keywords: Any, comment_tags: Any, options: dict
) -> Iterator[tuple[int, str | None, str, list[str]]]:
    """Babel extraction method: (line, function, message, comments) per description."""
    for text, used in demo_param_descriptions().items():
        yield 1, None, text, [f"demo parameter: {', '.join(used)}"]
