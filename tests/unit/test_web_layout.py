"""Where the site and the emails live (issue 15): the site in `micromoments.web`, one module
a route area, behind a thin Lambda entry point; the emails in `micromoments.email`; no
route reading the Store; every form POST through one preamble, `signed_in_post` or (before
sign-in) `browser_post`."""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path
from typing import Any

import micromoments

PACKAGE = Path(micromoments.__file__).parent
HANDLER = PACKAGE / "handlers" / "web.py"
MAX_MODULE_LINES = 450
MAX_HANDLER_LINES = 80
# POSTs made before signing in (bound to a browser cookie) or from an email's link (the
# link's token is the authority): every other POST is a signed-in page's.
BROWSER_POSTS = {"/login", "/auth"}
EMAILED_LINK_POSTS = {"/unsubscribe", "/leave"}


def modules(folder: str) -> list[Path]:
    return sorted((PACKAGE / folder).glob("*.py"))


def test_the_web_handler_is_a_thin_entry_point() -> None:
    source = HANDLER.read_text()
    assert len(source.splitlines()) < MAX_HANDLER_LINES
    assert "@app." not in source and "@router." not in source  # no routes, no error pages


def test_the_site_and_the_emails_are_in_their_packages_in_small_modules() -> None:
    for folder in ("web", "email"):
        found = [m for m in modules(folder) if m.name != "__init__.py"]
        assert found, f"{folder}/ holds nothing"
        for module in found:
            lines = len(module.read_text().splitlines())
            assert lines < MAX_MODULE_LINES, f"{folder}/{module.name}: {lines} lines"


def calls(path: Path) -> list[ast.Call]:
    return [node for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.Call)]


def test_no_route_reads_the_store() -> None:
    """The routes hand the Store to services and show the views they get back."""
    for module in [*modules("web"), HANDLER]:
        for call in calls(module):
            func = call.func
            if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Attribute):
                assert func.value.attr != "store", (
                    f"{module.name}:{call.lineno} calls the Store: .store.{func.attr}(...)"
                )


def test_every_email_is_built_in_the_email_package() -> None:
    outside = [PACKAGE / folder for folder in ("services", "web", "handlers", "domain")]
    for module in [m for folder in outside for m in sorted(folder.glob("*.py"))]:
        for call in calls(module):
            func = call.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            assert name != "EmailMessage", f"{module.name}:{call.lineno} builds an email"


def test_every_form_post_goes_through_its_preamble() -> None:
    from micromoments.web.app import app
    from micromoments.web.sessions import browser_post, signed_in_post

    def route(*_: Any) -> Any:
        return None

    signed_in_wrapper: Callable[[], Any] = signed_in_post(route)
    browser_wrapper: Callable[[], Any] = browser_post(route)
    posts = {r.rule.pattern.strip("^$"): r.func for r in app._static_routes if r.method == "POST"}
    assert set(posts) >= BROWSER_POSTS | EMAILED_LINK_POSTS
    assert {"/logout", "/preferences", "/preferences/dont-pair/clear", "/optout",
            "/delete-my-data", "/logout/everywhere"} <= set(posts)  # fmt: skip
    for rule, func in posts.items():
        if rule in EMAILED_LINK_POSTS:
            continue
        wrapper = browser_wrapper if rule in BROWSER_POSTS else signed_in_wrapper
        assert func.__code__ is wrapper.__code__, f"{rule} checks its form by hand"
