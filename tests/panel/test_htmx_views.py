"""One way to do htmx (mailadmin/rendering.py), checked over every routed view and template.

- No view reads `request.htmx` or writes an `HX-` header by hand: they ask `wants_partial` and
  answer through `render_page`, `render_fragment`, `redirect_after_post` and `django_htmx.http`.
- A page and the part htmx swaps are one template (`{% partialdef … inline %}`). A separate
  `_x.html` is a fragment that is shared: included by two templates or more, or rendered alone
  by a view that shows no page of its own (a row swap). A view that names a page and a `_`
  template, or a `_` template that one template alone includes, is a pair that should be one.
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest
from django import forms
from django.core.exceptions import ValidationError
from django.urls import URLPattern, URLResolver, get_resolver

from mailadmin.rendering import add_service_errors

ROOT = Path(__file__).resolve().parents[2]


def _callbacks(patterns: list[URLPattern | URLResolver]) -> Iterator[object]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _callbacks(pattern.url_patterns)
        else:
            yield pattern.callback


@cache
def view_modules() -> dict[str, Path]:
    """Every module of this project that holds a view the URLconf routes to."""
    found: dict[str, Path] = {}
    for callback in _callbacks(get_resolver().url_patterns):
        module = sys.modules[callback.__module__]
        path = Path(module.__file__ or "").resolve()
        if ROOT in path.parents and ".venv" not in path.parts:
            found[callback.__module__] = path
    return found


def htmx_by_hand(source: str) -> list[str]:
    """Where `source` reads htmx's request attribute or writes its headers itself."""
    found = []
    for node in ast.walk(ast.parse(source)):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Attribute) and node.attr == "htmx":
            found.append(f"line {line}: .htmx")
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in {"getattr", "hasattr"}
            and len(node.args) > 1
            and isinstance(node.args[1], ast.Constant)
            and node.args[1].value == "htmx"
        ):
            found.append(f"line {line}: {node.func.id}(…, 'htmx')")
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and re.match(r"(hx-|http_hx_)", node.value, re.IGNORECASE)
        ):
            found.append(f"line {line}: {node.value!r}")
    return found


def test_the_check_finds_htmx_by_hand() -> None:
    source = (
        "def view(request):\n"
        "    if request.htmx:\n"
        "        pass\n"
        "    if getattr(request, 'htmx', False):\n"
        "        pass\n"
        "    response['HX-Trigger'] = 'changed'\n"
        "    return request.META.get('HTTP_HX_REQUEST')\n"
    )
    assert len(htmx_by_hand(source)) == 4
    assert htmx_by_hand("def view(request):\n    return wants_partial(request)\n") == []


def test_the_views_are_found() -> None:
    assert "mailboxes.views.common" in view_sources()
    names = set(view_modules())
    assert {
        "accounts.views",
        "audit.views",
        "domains.views.edit",
        "mailadmin.contract.views",
        "mailboxes.views.aliases",
        "mailboxes.views.mailboxes",
        "selfservice.admin_views",
        "selfservice.views",
        "transfer.views",
    } <= names


def view_sources() -> dict[str, Path]:
    """The view modules and their helpers: every module of a `views` package."""
    sources = dict(view_modules())
    for module, path in view_modules().items():
        if path.parent.name == "views":
            package = module.rpartition(".")[0]
            for other in path.parent.glob("*.py"):
                sources.setdefault(f"{package}.{other.stem}", other)
    return sources


@pytest.mark.parametrize("module", sorted(view_sources()))
def test_no_view_reads_htmx_or_writes_its_headers_by_hand(module: str) -> None:
    assert htmx_by_hand(view_sources()[module].read_text()) == []


# --- templates ---------------------------------------------------------------------------------


@cache
def templates() -> dict[str, str]:
    """Every template of the project by its name (`mailboxes/mailbox_list.html`)."""
    folders = [ROOT / "templates", *ROOT.glob("*/templates"), *ROOT.glob("mailadmin/*/templates")]
    return {
        str(path.relative_to(folder)): path.read_text()
        for folder in folders
        for path in folder.rglob("*.html")
    }


def is_fragment(name: str) -> bool:
    return Path(name).name.startswith("_")


def is_page(name: str) -> bool:
    return not is_fragment(name) and not name.startswith("includes/")


def named_templates(function: ast.AST) -> set[str]:
    """The templates a function names (a `page.html#partial` counts as `page.html`)."""
    return {
        node.value.partition("#")[0]
        for node in ast.walk(function)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and re.fullmatch(r"[\w/]+\.html(#\w+)?", node.value)
    }


@cache
def view_functions() -> dict[str, set[str]]:
    """The templates each top-level function of the view modules names, by `module.function`."""
    names = {}
    for module, path in view_sources().items():
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.FunctionDef):
                names[f"{module}.{node.name}"] = named_templates(node)
    return names


def includers(name: str) -> set[str]:
    pattern = re.compile(r"""\{%\s*include\s+["']""" + re.escape(name) + "[\"']")
    return {other for other, text in templates().items() if pattern.search(text)}


def test_the_templates_are_found() -> None:
    assert {"base.html", "mailboxes/mailbox_list.html", "transfer/job.html"} <= set(templates())
    assert view_functions()["mailboxes.views.mailboxes.mailbox_list"] == {
        "mailboxes/mailbox_list.html"
    }


def _pairs_by_view() -> list[object]:
    params: list[object] = []
    for function, names in sorted(view_functions().items()):
        params.append(pytest.param(function, names, id=function))
    return params


@pytest.mark.parametrize(("function", "names"), _pairs_by_view())
def test_no_view_renders_a_page_and_a_separate_partial(function: str, names: set[str]) -> None:
    """The page's part is `page.html#part`, not a `_part.html` of its own."""
    pages = {n for n in names if is_page(n)}
    fragments = {n for n in names if is_fragment(n)}
    assert not (pages and fragments), f"{function} renders {pages} and {fragments}"


@pytest.mark.parametrize(
    "name",
    sorted(n for n in templates() if is_fragment(n)),
)
def test_a_fragment_template_is_shared(name: str) -> None:
    by_templates = includers(name)
    by_views = {f for f, names in view_functions().items() if name in names}
    assert by_templates or by_views, f"{name} is used nowhere"
    # Rendered alone by a view that shows no page (a row swap), or included by two templates.
    alone = {f for f in by_views if not any(is_page(n) for n in view_functions()[f])}
    assert alone or len(by_templates) >= 2, (
        f"{name} is only a part of {by_templates or by_views}: make it a partial there"
    )


def test_the_partials_the_views_name_exist() -> None:
    """`render_page(…, "x.html", …, partial="p")` and `"x.html#p"` name a partialdef of x.html."""
    wanted: set[tuple[str, str]] = set()
    for path in view_sources().values():
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and re.fullmatch(r"[\w/]+\.html#\w+", node.value)
            ):
                template, _, partial = node.value.partition("#")
                wanted.add((template, partial))
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", "") == "render_page"
                and len(node.args) > 1
                and isinstance(node.args[1], ast.Constant)
            ):
                for keyword in node.keywords:
                    if keyword.arg == "partial" and isinstance(keyword.value, ast.Constant):
                        wanted.add((str(node.args[1].value), str(keyword.value.value)))
    assert len(wanted) > 20
    for template, partial in sorted(wanted):
        assert re.search(r"\{%\s*partialdef\s+" + partial + r"\b", templates()[template]), (
            template,
            partial,
        )


# --- the helpers -------------------------------------------------------------------------------


class MailboxForm(forms.Form):
    local_part = forms.CharField(required=False)
    quota = forms.CharField(required=False)


def _form() -> MailboxForm:
    form = MailboxForm({})
    assert form.is_valid()
    return form


def test_service_errors_go_on_their_fields_renamed_by_the_map() -> None:
    form = _form()
    error = ValidationError({"address": "taken", "quota": "too big", "domain": "not yours"})
    add_service_errors(form, error, {"address": "local_part"})
    assert form.errors["local_part"] == ["taken"]
    assert form.errors["quota"] == ["too big"]
    assert form.non_field_errors() == ["not yours"]


def test_a_service_message_without_a_field_goes_to_the_top() -> None:
    form = _form()
    add_service_errors(form, ValidationError("refused"))
    add_service_errors(form, ValidationError(["one", "two"]))
    assert form.non_field_errors() == ["refused", "one", "two"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "/domains/",
        "/domains/a.example/mailboxes/",
        "/domains/a.example/aliases/",
        "/domains/a.example/alias-domains/",
        "/audit/",
    ],
)
def test_a_boosted_link_gets_the_whole_page(client_super, htmx, url: str) -> None:
    boosted = client_super.get(url, headers={**htmx, "HX-Boosted": "true"})
    assert boosted.status_code == 200
    assert b"<html" in boosted.content
    assert b"<html" not in client_super.get(url, headers=htmx).content
