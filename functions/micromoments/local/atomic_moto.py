"""moto's DynamoDB, made to apply each request atomically as DynamoDB does.

DynamoDB applies a conditional write atomically: of two writers that both read ``active``
and write on that condition, exactly one wins. moto checks the condition and then writes
in two steps with no lock between them (``Table.put_item`` in moto/dynamodb/models), so
under threads both writers can win (measured: 3 rounds in 300 of two racing
``update_person`` calls on moto 5.2.5). The Store's leases, sign-in tokens and optimistic
updates rely on the guarantee, so every stand-in that serves requests from more than one
thread (the tests, `micromoments demo` and `serve`) installs `serialise_dynamodb` first:
one lock around moto's DynamoDB request handler, so each request runs alone, as a
stricter form of DynamoDB's per-item serialisation. It changes no result of a request
that runs alone.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

_REQUEST_LOCK = threading.RLock()
_INSTALL_LOCK = threading.Lock()
_MARK = "_micromoments_serialised"


def serialise_dynamodb() -> None:
    """Make moto's DynamoDB handle one request at a time, in this process (in-process
    `mock_aws` and moto's threaded server alike). Installing twice is a no-op."""
    from moto.dynamodb.responses import DynamoHandler

    with _INSTALL_LOCK:
        if getattr(DynamoHandler.call_action, _MARK, False):
            return
        original = DynamoHandler.call_action

        @functools.wraps(original)
        def call_action(self: DynamoHandler) -> Any:
            with _REQUEST_LOCK:
                return original(self)

        setattr(call_action, _MARK, True)
        DynamoHandler.call_action = call_action  # type: ignore[method-assign]
