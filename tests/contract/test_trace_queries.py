"""The panel's trace sends the queries Postfix sends, and gets Postfix's answers.

On MariaDB and SQLite the exported query gives the key's domain to the views as a constant
(queries.u_label_guarded): the bare view query would read every domain row to find it, so a
trace of one address cost a scan of the domains for each query it sent.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.utils import ConnectionHandler

from mailadmin.contract.queries import POSTFIX_QUERIES
from mailadmin.contract.trace import Lookups
from mailadmin.dburl import to_django
from tests.contract.conftest import World, Worlds

pytestmark = pytest.mark.tools

KEYS = (
    "alice@example.com",
    "carol@example.com",
    "team@example.com",
    "nobody@example.com",
    "@example.com",
    "example.com",
    "jan@bücher.example",
    "bücher.example",
    "jan@xn--bcher-kva.example",
    "someone@alias.example",
)


@pytest.fixture(scope="module", params=("mysql", "sqlite"))
def traced(
    request: pytest.FixtureRequest, worlds: Worlds, django_db_blocker: object
) -> Iterator[tuple[World, BaseDatabaseWrapper]]:
    """A world and a Django connection to its database, as the panel would hold it."""
    world = worlds.get(request.param)
    handler = ConnectionHandler({"default": to_django(world.db.url, world.out)})
    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        try:
            yield world, handler["default"]
        finally:
            handler.close_all()


def _setting(world: World, table: str, name: str) -> str:
    text = (world.out / "postfix" / f"{table}.cf").read_text()
    line = next(line for line in text.splitlines() if line.startswith(f"{name} = "))
    return line[len(name) + 3 :]


@pytest.mark.parametrize("table", sorted(POSTFIX_QUERIES))
def test_the_trace_sends_the_exported_query(
    traced: tuple[World, BaseDatabaseWrapper], table: str
) -> None:
    world, connection = traced
    lookups = Lookups(connection)
    exported = _setting(world, table, "query")
    for key in KEYS:
        lookup = lookups.ask(table, key)
        assert lookup.query == exported, (table, key)
        assert lookup.answer == world.lookup(table, key), (table, key)
