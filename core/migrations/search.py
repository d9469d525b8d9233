"""The SQLite full-text search over cases (FTS5), shared by the migrations that make or rebuild it.

`cases_search` is an external-content FTS5 table over `cases(description, location_text)`, kept by
triggers. SQLite drops a table's triggers with the table, and Alembic's batch mode rebuilds `cases`
(copy, drop, rename) for some changes: a migration that alters `cases` on SQLite calls
`create_sqlite_triggers` afterwards (it replaces them, so calling it when they survived is harmless).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

SQLITE_TABLE = ("CREATE VIRTUAL TABLE cases_search USING fts5(description, location_text, content='cases', "
                "content_rowid='id', tokenize='unicode61 remove_diacritics 2')")
SQLITE_REBUILD = "INSERT INTO cases_search(cases_search) VALUES ('rebuild')"
TRIGGERS = {
    "cases_search_insert": "AFTER INSERT ON cases BEGIN "
                           "INSERT INTO cases_search(rowid, description, location_text) "
                           "VALUES (new.id, new.description, new.location_text); END",
    "cases_search_delete": "AFTER DELETE ON cases BEGIN "
                           "INSERT INTO cases_search(cases_search, rowid, description, location_text) "
                           "VALUES ('delete', old.id, old.description, old.location_text); END",
    "cases_search_update": "AFTER UPDATE OF description, location_text ON cases BEGIN "
                           "INSERT INTO cases_search(cases_search, rowid, description, location_text) "
                           "VALUES ('delete', old.id, old.description, old.location_text); "
                           "INSERT INTO cases_search(rowid, description, location_text) "
                           "VALUES (new.id, new.description, new.location_text); END",
}


def drop_sqlite_triggers(execute: Callable[[str], Any]) -> None:
    """Drop the triggers that keep `cases_search` current."""
    for name in TRIGGERS:
        execute(f"DROP TRIGGER IF EXISTS {name}")


def create_sqlite_triggers(execute: Callable[[str], Any]) -> None:
    """(Re)create the triggers that keep `cases_search` current."""
    drop_sqlite_triggers(execute)
    for name, body in TRIGGERS.items():
        execute(f"CREATE TRIGGER {name} {body}")
