"""Property tests (hypothesis): arbitrary YAML never crashes the bank loader, and demo parameters
are accepted exactly when they are inside their declared bounds."""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from app.bank.loader import BankError, load_bank
from app.demos import REGISTRY, load_all
from tests.conftest import FIXTURE_BANK

load_all()
DEMO_IDS = sorted(REGISTRY)
VALID = (FIXTURE_BANK / "alpha.yaml").read_text()
# CI replays the same examples every run; TQ_FUZZ_RANDOM=1 explores new ones.
DERANDOMIZE = not os.environ.get("TQ_FUZZ_RANDOM")
PROPS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    derandomize=DERANDOMIZE,
)


def _load(text: str | bytes) -> None:
    """Load a one-file bank: it must load or raise BankError naming the file, nothing else."""
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "topic.yaml"
        p.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass"))
        try:
            load_bank(Path(d), known_demos={"scaling-variance"})
        except BankError as e:
            assert e.issues and all(i.file for i in e.issues)
            assert "topic.yaml" in str(e)


yaml_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=20)
)
yaml_values = st.recursive(
    yaml_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=20,
)


@PROPS
@given(st.text(max_size=300))
def test_any_text_loads_or_names_the_error(text):
    _load(text)


@PROPS
@given(st.binary(max_size=200))
def test_any_bytes_load_or_name_the_error(data):
    _load(data)


@PROPS
@given(yaml_values)
def test_any_yaml_document_loads_or_names_the_error(doc):
    _load(yaml.safe_dump(doc, allow_unicode=True))


@PROPS
@given(st.data())
def test_a_valid_file_with_one_field_broken_names_that_question(data):
    doc = yaml.safe_load(VALID)
    q = data.draw(st.sampled_from(doc["questions"]))
    key = data.draw(st.sampled_from(sorted(q)))
    action = data.draw(st.sampled_from(["delete", "replace"]))
    if action == "delete":
        del q[key]
    else:
        q[key] = data.draw(yaml_values)
    with tempfile.TemporaryDirectory() as d:
        (Path(d) / "alpha.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True))
        try:
            load_bank(Path(d), known_demos={"scaling-variance"})
        except BankError as e:
            assert any(i.file == "alpha.yaml" for i in e.issues)
            if key != "id":  # with the id itself broken, the question cannot be named by it
                assert any(i.question_id == q.get("id") for i in e.issues), str(e)


# --- demo parameters -------------------------------------------------------------------------


def _field_strategy(prop: dict[str, Any]) -> st.SearchStrategy:
    if "enum" in prop:
        return st.sampled_from(prop["enum"])
    if "const" in prop:
        return st.just(prop["const"])
    t = prop.get("type")
    if t == "integer" and "multipleOf" in prop:
        m = prop["multipleOf"]
        lo, hi = -(-prop["minimum"] // m), prop["maximum"] // m
        return st.integers(lo, hi).map(lambda v: v * m)
    if t == "integer":
        return st.integers(prop.get("minimum"), prop.get("maximum"))
    if t == "number":
        lo, hi = prop.get("minimum"), prop.get("maximum")
        if "exclusiveMinimum" in prop or "exclusiveMaximum" in prop:  # e.g. top_p in (0, 1]
            lo, hi = prop.get("exclusiveMinimum", lo), prop.get("exclusiveMaximum", hi)
            return st.floats(
                lo,
                hi,
                exclude_min="exclusiveMinimum" in prop,
                exclude_max="exclusiveMaximum" in prop,
                allow_nan=False,
            )
        return st.floats(lo, hi, allow_nan=False)
    if t == "boolean":
        return st.booleans()
    if t == "string" and "pattern" in prop:
        return st.from_regex(prop["pattern"], fullmatch=True)
    if t == "string":
        return st.text(
            st.characters(codec="ascii", categories=["Ll"]),
            min_size=prop.get("minLength", 0),
            max_size=prop.get("maxLength", 20),
        )
    if "anyOf" in prop:
        return st.one_of([_field_strategy(p) for p in prop["anyOf"] if p.get("type") != "null"])
    raise AssertionError(f"no strategy for {prop}")


def _schema(demo_id: str) -> dict[str, Any]:
    return REGISTRY[demo_id].params.model_json_schema()


def _resolve(prop: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in prop:
        return schema["$defs"][prop["$ref"].rsplit("/", 1)[1]]
    if "allOf" in prop and len(prop["allOf"]) == 1:
        return _resolve(prop["allOf"][0], schema)
    return prop


def _bounded(demo_id: str):
    schema = _schema(demo_id)
    for name, prop in schema.get("properties", {}).items():
        prop = _resolve(prop, schema)
        if prop.get("type") in ("integer", "number"):
            yield name, prop


def _in_bounds(demo_id: str) -> st.SearchStrategy[dict[str, Any]]:
    schema = _schema(demo_id)
    props = {n: _resolve(p, schema) for n, p in schema.get("properties", {}).items()}
    return st.fixed_dictionaries({}, optional={n: _field_strategy(p) for n, p in props.items()})


@pytest.mark.slow
@pytest.mark.parametrize("demo_id", DEMO_IDS)
@settings(
    max_examples=int(os.environ.get("TQ_FUZZ_EXAMPLES", "4")),
    deadline=None,
    derandomize=DERANDOMIZE,
)
@given(data=st.data())
def test_any_in_bounds_params_run(demo_id, data):
    """Within bounds every demo runs (the worst case in bounds is what the server may be asked)."""
    params = data.draw(_in_bounds(demo_id))
    demo = REGISTRY[demo_id]
    try:
        p = demo.params.model_validate(params)
    except ValidationError as e:
        # Only cross-field rules (e.g. heads must divide d_model) may refuse in-bounds values.
        assert all(err["loc"] == () for err in e.errors()), e
        assume(False)
    result = demo.run(p, data.draw(st.integers(0, 2**31 - 1)))
    json.dumps(result.model_dump(mode="json"), allow_nan=False)  # what the API will send
    for s in result.scalars:
        if isinstance(s.value, float):
            assert not math.isinf(s.value) or "inf" in s.key, (demo_id, s.key)


@pytest.mark.parametrize("demo_id", DEMO_IDS)
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    derandomize=DERANDOMIZE,
)
@given(data=st.data())
def test_out_of_bounds_params_get_422_naming_the_range(client, demo_id, data):
    fields = list(_bounded(demo_id))
    assume(fields)
    name, prop = data.draw(st.sampled_from(fields))
    lo, hi = prop.get("minimum"), prop.get("maximum")
    whole = prop["type"] == "integer"
    if "exclusiveMinimum" in prop:  # the bound itself is out of bounds too
        lo = prop["exclusiveMinimum"]
        below = st.floats(max_value=lo)
    else:
        below = (
            st.integers(max_value=lo - 1) if whole else st.floats(max_value=lo, exclude_max=True)
        )
    if "exclusiveMaximum" in prop:
        hi = prop["exclusiveMaximum"]
        above = st.floats(min_value=hi)
    else:
        above = (
            st.integers(min_value=hi + 1) if whole else st.floats(min_value=hi, exclude_min=True)
        )
    value = data.draw(st.one_of(below, above).filter(lambda v: not math.isinf(v)))
    r = client.post(f"/api/demos/{demo_id}", json={name: value})
    assert r.status_code == 422, (name, value, r.text)
    assert "allowed" in r.text and str(lo) in r.text and str(hi) in r.text, r.text
