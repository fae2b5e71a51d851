"""errors.py draws the proxy's exception tree; the drawing and the classes must agree."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re

import gateway.proxy
from gateway.proxy import errors
from gateway.proxy.errors import ProxyError

# "    ├── UpstreamTimeout         504  upstream_error         upstream_timeout"
_DRAWN = re.compile(r"^(?P<lead>    [│├└─ ]*)(?P<name>[A-Z]\w+)(?P<rest>.*)$")
# Modules that do something when imported (asgi builds the app from the environment).
_NOT_IMPORTED = {"gateway.proxy.asgi"}


def _drawn() -> dict[str, tuple[str | None, list[str]]]:
    """Each class drawn in the docstring: its parent in the drawing and its columns."""
    assert errors.__doc__ is not None
    found: dict[str, tuple[str | None, list[str]]] = {}
    parents: list[str] = []
    for line in errors.__doc__.splitlines():
        match = _DRAWN.match(line)
        if match is None or match["name"] == "class":
            continue
        depth = (len(match["lead"]) - 4) // 4
        parents = [*parents[:depth], match["name"]]
        parent = parents[depth - 1] if depth > 0 else None
        found[match["name"]] = (parent, match["rest"].split())
    return found


def _reachable() -> dict[str, type[BaseException]]:
    return {
        name: value
        for name, value in vars(errors).items()
        if inspect.isclass(value) and issubclass(value, BaseException)
    }


def test_every_exception_of_errors_py_is_drawn_under_its_parent() -> None:
    drawn = _drawn()
    for name, cls in _reachable().items():
        assert name in drawn, f"{name} is not drawn in errors.py's docstring"
        parent, _ = drawn[name]
        if parent is not None:
            assert cls.__bases__[0].__name__ == parent, f"{name} is drawn under {parent}"
    assert set(drawn) <= set(_reachable()), "the drawing names a class errors.py lacks"


def test_every_proxy_error_is_drawn_with_its_status_type_and_code() -> None:
    drawn = _drawn()
    for name, cls in _reachable().items():
        if not issubclass(cls, ProxyError):
            continue
        _, columns = drawn[name]
        assert columns[:3] == [str(cls.status), cls.type, cls.code], name


def test_every_exception_class_of_the_proxy_is_reachable_from_errors_py() -> None:
    reachable = set(_reachable().values())
    for module_info in pkgutil.walk_packages(gateway.proxy.__path__, "gateway.proxy."):
        if module_info.name in _NOT_IMPORTED:
            continue
        module = importlib.import_module(module_info.name)
        for cls in vars(module).values():
            if (
                inspect.isclass(cls)
                and issubclass(cls, BaseException)
                and cls.__module__ == module.__name__
            ):
                assert cls in reachable, f"{module.__name__}.{cls.__name__} is not in errors.py"
