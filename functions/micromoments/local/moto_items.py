"""moto's DynamoDB responses, with their items written the short way.

moto (5.2) writes every response through a serializer driven by the botocore model: for
each attribute of each item it looks up all ten members of the ``AttributeValue`` shape
(``S``, ``N``, ``B`` … ``BOOL``) under every alias it knows, to find the one that is
there. A Query of one person's mirror (a hundred items) costs tens of milliseconds of CPU
that way, inside the lock that keeps moto's DynamoDB one request at a time
(`atomic_moto`): most of the demo's CPU time went there.

`write_items_directly` gives the JSON serializer a short path for an ``AttributeValue`` of
DynamoDB that moto's own model hands it (a dict with one of the ten type keys and a value
of the type that key takes): the same JSON value, built directly. Anything else (another
service, another shape, an unexpected value, a response transformer in use) takes moto's
path unchanged. Installed by the local runtime, with `atomic_moto.serialise_dynamodb`.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

_INSTALL_LOCK = threading.Lock()
_MARK = "_micromoments_items_directly"
_SCALARS = frozenset({"S", "N"})
_FLAGS = frozenset({"NULL", "BOOL"})
_STRING_SETS = frozenset({"SS", "NS"})


class _NotPlain(Exception):
    """A value the short path does not write: moto's path writes it."""


def attribute_value(value: Any, base64: Any) -> dict[str, Any]:
    """The JSON of one DynamoDB ``AttributeValue`` given as moto's model hands it (binary
    as bytes), as moto's JSON serializer writes it; `_NotPlain` for anything else.
    ``base64``: the serializer's own blob encoding."""
    if type(value) is not dict or len(value) != 1:
        raise _NotPlain
    ((kind, inner),) = value.items()
    if kind in _SCALARS:
        if type(inner) is not str:
            raise _NotPlain
        return {kind: inner}
    if kind in _FLAGS:
        if type(inner) is not bool:
            raise _NotPlain
        return {kind: inner}
    if kind == "M":
        if type(inner) is not dict:
            raise _NotPlain
        return {"M": {key: attribute_value(item, base64) for key, item in inner.items()}}
    if kind == "L":
        if type(inner) is not list:
            raise _NotPlain
        return {"L": [attribute_value(item, base64) for item in inner]}
    if kind in _STRING_SETS:
        if type(inner) is not list or any(type(item) is not str for item in inner):
            raise _NotPlain
        return {kind: list(inner)}
    if kind == "B":
        if not isinstance(inner, (bytes, str)):
            raise _NotPlain
        return {"B": base64(inner)}
    if kind == "BS":
        if type(inner) is not list or any(not isinstance(i, (bytes, str)) for i in inner):
            raise _NotPlain
        return {"BS": [base64(item) for item in inner]}
    raise _NotPlain


def write_items_directly() -> None:
    """Give moto's JSON serializer the short path for DynamoDB's ``AttributeValue``, in
    this process. Installing twice is a no-op."""
    from moto.core.serialize import JSONSerializer

    with _INSTALL_LOCK:
        if getattr(JSONSerializer._serialize, _MARK, False):
            return
        original = JSONSerializer._serialize

        @functools.wraps(original)
        def _serialize(self: Any, serialized: Any, value: Any, shape: Any, key: str) -> None:
            if (
                key
                and shape.name == "AttributeValue"
                and self.service_model.service_name == "dynamodb"
                and not getattr(self._value_picker, "response_transformers", None)
                and "name" not in shape.serialization
            ):
                try:
                    serialized[key] = attribute_value(value, self._base64)
                    return
                except _NotPlain:
                    pass
            original(self, serialized, value, shape, key)

        setattr(_serialize, _MARK, True)
        JSONSerializer._serialize = _serialize  # type: ignore[method-assign]
