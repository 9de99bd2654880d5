"""`local.moto_items`: moto's DynamoDB responses with their items written directly are the
same bytes as moto's model-driven serializer writes, and the short path is taken."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from moto.core.serialize import BaseJSONSerializer, JSONSerializer, XFormedAttributePicker
from moto.core.utils import get_service_model

from micromoments.local.moto_items import write_items_directly

write_items_directly()


class MotosOwn(BaseJSONSerializer):
    """moto's JSON serializer as moto ships it (the short path is on JSONSerializer)."""


class CountingPicker(XFormedAttributePicker):
    """moto's value picker, counting the members it was asked for."""

    def __init__(self) -> None:
        super().__init__(response_transformers={})
        self.asked = 0

    def __call__(self, context: Any) -> Any:
        self.asked += 1
        return super().__call__(context)


def body(serializer: type[BaseJSONSerializer], operation: str, result: Any) -> str:
    model = get_service_model("dynamodb").operation_model(operation)
    picker = XFormedAttributePicker(response_transformers={})
    written = serializer(operation_model=model, value_picker=picker).serialize(result)
    return str(written["body"])


texts = st.text(max_size=8)
numbers = st.integers(-(10**6), 10**6).map(str) | st.decimals(allow_nan=False, places=3).map(str)
blobs = st.binary(max_size=8)
scalars = st.one_of(
    texts.map(lambda s: {"S": s}),
    numbers.map(lambda n: {"N": n}),
    blobs.map(lambda b: {"B": b}),
    st.booleans().map(lambda b: {"BOOL": b}),
    st.just({"NULL": True}),
    st.lists(texts, min_size=1, max_size=3).map(lambda v: {"SS": v}),
    st.lists(numbers, min_size=1, max_size=3).map(lambda v: {"NS": v}),
    st.lists(blobs, min_size=1, max_size=3).map(lambda v: {"BS": v}),
)
attribute_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.dictionaries(st.text(min_size=1, max_size=5), inner, max_size=3).map(lambda m: {"M": m}),
        st.lists(inner, max_size=3).map(lambda v: {"L": v}),
    ),
    max_leaves=8,
)
items = st.dictionaries(st.text(min_size=1, max_size=6), attribute_values, min_size=1, max_size=4)


@given(st.lists(items, max_size=4))
def test_a_query_is_written_as_motos_serializer_writes_it(found: list[dict[str, Any]]) -> None:
    result = {"Count": len(found), "ScannedCount": len(found), "Items": found}
    assert body(JSONSerializer, "Query", result) == body(MotosOwn, "Query", result)


@given(items)
def test_a_get_item_is_written_as_motos_serializer_writes_it(item: dict[str, Any]) -> None:
    result = {"Item": item}
    assert body(JSONSerializer, "GetItem", result) == body(MotosOwn, "GetItem", result)


@pytest.mark.parametrize(
    "odd",
    [
        {},  # no type
        {"S": "a", "N": "1"},  # two types
        {"S": 1},  # a number where text belongs
        {"X": "a"},  # no such type
        {"L": [{"S": "a", "N": "1"}]},  # an odd value inside
    ],
)
def test_an_unexpected_value_is_left_to_motos_path(odd: dict[str, Any]) -> None:
    result = {"Item": {"pk": {"S": "a"}, "odd": odd}}
    assert body(JSONSerializer, "GetItem", result) == body(MotosOwn, "GetItem", result)


def test_an_item_takes_the_short_path() -> None:
    model = get_service_model("dynamodb").operation_model("GetItem")
    item = {f"a{i}": {"S": str(i)} for i in range(20)}
    counted = []
    for serializer in (MotosOwn, JSONSerializer):
        picker = CountingPicker()
        serializer(operation_model=model, value_picker=picker).serialize({"Item": item})
        counted.append(picker.asked)
    motos, short = counted
    assert motos >= 10 * len(item)  # every member of every attribute value looked up
    assert short < len(item)  # the response's own members only
