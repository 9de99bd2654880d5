"""The Calendar v3 discovery document shipped in google-api-python-client, used as the
contract: routes, query parameters and request bodies are checked against it."""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from micromoments.local.calendar_api import times
from micromoments.local.calendar_api.errors import ApiError, invalid, required

_INT32 = (-(2**31), 2**31 - 1)

# Enumerations the discovery document only states in prose; Google rejects other values.
_BODY_ENUMS: dict[tuple[str, str], frozenset[str]] = {
    ("Event", "status"): frozenset({"confirmed", "tentative", "cancelled"}),
    ("Event", "transparency"): frozenset({"opaque", "transparent"}),
    ("Event", "visibility"): frozenset({"default", "public", "private", "confidential"}),
    ("Event", "eventType"): frozenset(
        {"default", "outOfOffice", "focusTime", "workingLocation", "birthday", "fromGmail"}
    ),
    ("EventAttendee", "responseStatus"): frozenset(
        {"needsAction", "declined", "tentative", "accepted"}
    ),
    ("EventReminder", "method"): frozenset({"email", "popup"}),
}

# Google's limits on extended properties (Calendar API "Extended properties" guide).
EXTENDED_KEY_MAX = 44
EXTENDED_VALUE_MAX = 1024


@cache
def document() -> dict[str, Any]:
    """The parsed ``calendar.v3.json`` of the installed google-api-python-client."""
    path = resources.files("googleapiclient").joinpath("discovery_cache/documents/calendar.v3.json")
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


@dataclass(frozen=True, slots=True)
class Route:
    http_method: str
    pattern: re.Pattern[str]
    names: tuple[str, ...]
    method_id: str
    description: dict[str, Any]


@cache
def routes() -> tuple[Route, ...]:
    """Every method of the document, literal paths before parameterised ones."""
    found: list[tuple[int, int, Route]] = []

    def visit(resource_map: Mapping[str, Any]) -> None:
        for resource in resource_map.values():
            for method in resource.get("methods", {}).values():
                template: str = method["path"]
                names = tuple(re.findall(r"\{\+?(\w+)\}", template))
                regex = "".join(
                    "([^/]+)" if part.startswith("{") else re.escape(part)
                    for part in re.split(r"(\{\+?\w+\})", template)
                    if part
                )
                route = Route(
                    http_method=method["httpMethod"],
                    pattern=re.compile(f"^{regex}$"),
                    names=names,
                    method_id=method["id"],
                    description=method,
                )
                found.append((len(names), -len(template), route))
            visit(resource.get("resources", {}))

    visit(document()["resources"])
    found.sort(key=lambda item: (item[0], item[1]))
    return tuple(route for _, _, route in found)


def match(http_method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    """The route for a path relative to the service path (still percent-encoded)."""
    for route in routes():
        if route.http_method != http_method:
            continue
        found = route.pattern.match(path)
        if found is not None:
            values = {
                name: urllib.parse.unquote(value)
                for name, value in zip(route.names, found.groups(), strict=True)
            }
            return route, values
    return None


def path_exists(path: str) -> bool:
    return any(route.pattern.match(path) for route in routes())


# --- query parameters ----------------------------------------------------------------------


def parse_params(route: Route, query: Mapping[str, list[str]]) -> dict[str, Any]:
    """The query parameters, typed, or ApiError 400 for an unknown or malformed one."""
    declared: dict[str, Any] = dict(document()["parameters"])
    for name, spec in route.description.get("parameters", {}).items():
        if spec.get("location") == "query":
            declared[name] = spec
    out: dict[str, Any] = {}
    for name, values in query.items():
        spec = declared.get(name)
        if spec is None:
            raise invalid(
                f'Invalid JSON payload received. Unknown name "{name}": Cannot bind query '
                f"parameter. Field '{name}' could not be found in request message.",
                location=name,
            )
        if len(values) > 1 and not spec.get("repeated"):
            raise invalid(f"Parameter '{name}' given more than once.", location=name)
        parsed = [_parse_value(name, spec, value) for value in values]
        out[name] = parsed if spec.get("repeated") else parsed[0]
    return out


def _parse_value(name: str, spec: Mapping[str, Any], value: str) -> Any:
    kind = spec.get("type")
    if kind == "integer":
        try:
            number = int(value)
        except ValueError as error:
            raise invalid(
                f"Invalid value '{value}' for parameter '{name}'.", location=name
            ) from error
        if "minimum" in spec and number < int(spec["minimum"]):
            raise invalid(f"Invalid value '{value}' for parameter '{name}'.", location=name)
        if "maximum" in spec and number > int(spec["maximum"]):
            raise invalid(f"Invalid value '{value}' for parameter '{name}'.", location=name)
        return number
    if kind == "boolean":
        lowered = value.lower()
        if lowered not in ("true", "false"):
            raise invalid(f"Invalid value '{value}' for parameter '{name}'.", location=name)
        return lowered == "true"
    if "enum" in spec and value not in spec["enum"]:
        raise invalid(f"Invalid value '{value}' for parameter '{name}'.", location=name)
    if spec.get("format") == "date-time" and not (
        times.is_date_time(value) and times.has_offset(value)
    ):
        raise ApiError(
            400, f"Bad Request: '{name}' must be an RFC3339 timestamp with a time zone offset.",
            "badRequest", location=name,
        )  # fmt: skip
    return value


# --- request bodies ------------------------------------------------------------------------


def validate_body(schema_name: str, body: Any, method_id: str) -> None:
    """Check a request body against a schema of the document: known fields only, the
    declared JSON types and formats, fields the method requires, and the enumerations and
    extended-property limits Google enforces. Raises ApiError 400 on the first problem."""
    if not isinstance(body, dict):
        raise invalid("Invalid JSON payload received. Expected an object at 'resource'.")
    schema = document()["schemas"][schema_name]
    _check(body, schema, schema_name, "resource", method_id)


def _resolve(schema: Mapping[str, Any]) -> tuple[Mapping[str, Any], str | None]:
    ref = schema.get("$ref")
    if ref is None:
        return schema, None
    target: Mapping[str, Any] = document()["schemas"][ref]
    return target, ref


def _check(value: Any, schema: Mapping[str, Any], owner: str, path: str, method_id: str) -> None:
    schema, ref = _resolve(schema)
    if ref is not None:
        owner = ref
    if value is None:  # null clears a field (patch semantics)
        return
    kind = schema.get("type")
    if kind == "any":
        return
    if kind == "object":
        if not isinstance(value, dict):
            raise _bad_value(path, "TYPE_MESSAGE", value)
        properties: Mapping[str, Any] = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        for key, item in value.items():
            spec = properties.get(key)
            if spec is not None:
                _check(item, spec, owner, f"{path}.{key}", method_id)
                enum = _BODY_ENUMS.get((owner, key))
                if enum is not None and item is not None and item not in enum:
                    raise invalid(f"Invalid value for: {key}", location=f"{path}.{key}")
            elif extra is not None:
                _check(item, extra, owner, f"{path}[{key!r}]", method_id)
            else:
                where = path.rsplit(".", 1)[-1] if "." in path else path
                raise invalid(
                    f"Invalid JSON payload received. Unknown name \"{key}\" at '{where}': "
                    "Cannot find field.",
                    location=f"{path}.{key}",
                )
        for key, spec in properties.items():
            needed = spec.get("annotations", {}).get("required", ())
            if method_id in needed and value.get(key) is None:
                raise required(f"Missing {key} field.", location=f"{path}.{key}")
        return
    if kind == "array":
        if not isinstance(value, list):
            raise _bad_value(path, "TYPE_LIST", value)
        item_schema: Mapping[str, Any] = schema.get("items", {})
        for index, item in enumerate(value):
            _check(item, item_schema, owner, f"{path}[{index}]", method_id)
        return
    if kind == "boolean":
        if not isinstance(value, bool):
            raise _bad_value(path, "TYPE_BOOL", value)
        return
    if kind == "integer":
        number: int
        if isinstance(value, bool):
            raise _bad_value(path, "TYPE_INT32", value)
        if isinstance(value, int):
            number = value
        elif isinstance(value, str) and re.fullmatch(r"-?\d+", value):
            number = int(value)
        else:
            raise _bad_value(path, "TYPE_INT32", value)
        if schema.get("format") == "int32" and not _INT32[0] <= number <= _INT32[1]:
            raise _bad_value(path, "TYPE_INT32", value)
        return
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _bad_value(path, "TYPE_DOUBLE", value)
        return
    if kind == "string":
        if not isinstance(value, str):
            raise _bad_value(path, "TYPE_STRING", value)
        fmt = schema.get("format")
        if fmt == "date-time" and not times.is_date_time(value):
            raise invalid(f"Invalid value at '{path}': not an RFC3339 date-time.", location=path)
        if fmt == "date" and not times.is_date(value):
            raise invalid(f"Invalid value at '{path}': not a yyyy-mm-dd date.", location=path)
        if fmt == "int64" and not re.fullmatch(r"-?\d+", value):
            raise _bad_value(path, "TYPE_INT64", value)
        if path.startswith("resource.extendedProperties."):
            _check_extended(path, value)
        return


def _check_extended(path: str, value: str) -> None:
    key = path.rsplit("[", 1)[-1].rstrip("]").strip("'\"")
    if len(key) > EXTENDED_KEY_MAX:
        raise invalid(
            f"Extended property key too long (at most {EXTENDED_KEY_MAX}).", location=path
        )
    if len(value) > EXTENDED_VALUE_MAX:
        raise invalid(
            f"Extended property value too long (at most {EXTENDED_VALUE_MAX}).", location=path
        )


def _bad_value(path: str, type_name: str, value: Any) -> ApiError:
    shown = json.dumps(value) if not isinstance(value, str) else value
    return invalid(f"Invalid value at '{path}' ({type_name}), {shown}", location=path)


# --- partial responses (``fields``) ---------------------------------------------------------


def select_fields(value: Any, mask: str) -> Any:
    """Apply a ``fields`` selector (``items(id,start),nextPageToken``) to a response."""
    tree = _parse_mask(mask)
    return _apply(value, tree)


_Mask = dict[str, "_Mask | None"]


def _parse_mask(mask: str) -> _Mask:
    tree, rest = _parse_list(mask.replace(" ", ""), 0)
    if rest != len(mask.replace(" ", "")):
        raise invalid(f"Invalid field selection {mask}", location="fields")
    return tree


def _parse_list(text: str, at: int) -> tuple[_Mask, int]:
    tree: _Mask = {}
    while at < len(text):
        match_ = re.compile(r"[A-Za-z0-9_*]+(?:/[A-Za-z0-9_*]+)*").match(text, at)
        if match_ is None:
            raise invalid(f"Invalid field selection {text}", location="fields")
        parts = match_.group(0).split("/")
        at = match_.end()
        sub: _Mask | None = None
        if at < len(text) and text[at] == "(":
            sub, at = _parse_list(text, at + 1)
            if at >= len(text) or text[at] != ")":
                raise invalid(f"Invalid field selection {text}", location="fields")
            at += 1
        node = tree
        for part in parts[:-1]:
            child = node.get(part)
            if child is None:
                child = {}
                node[part] = child
            node = child
        _merge(node, parts[-1], sub)
        if at < len(text) and text[at] == ",":
            at += 1
            continue
        break
    return tree, at


def _merge(node: _Mask, key: str, sub: _Mask | None) -> None:
    if key in node and node[key] is None:
        return
    if sub is None:
        node[key] = None
        return
    existing = node.get(key)
    if existing is None:
        node[key] = sub
    else:
        for name, child in sub.items():
            _merge(existing, name, child)


def _apply(value: Any, tree: _Mask | None) -> Any:
    if tree is None:
        return value
    if isinstance(value, list):
        return [_apply(item, tree) for item in value]
    if not isinstance(value, dict):
        return value
    if "*" in tree:
        return {key: _apply(item, tree["*"]) for key, item in value.items()}
    return {key: _apply(value[key], sub) for key, sub in tree.items() if key in value}
