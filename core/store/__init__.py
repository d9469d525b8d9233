"""The case store: one object over the SQL database for everything durable, one module per kind of record."""

from core.store.case_store import CaseStore

__all__ = ["CaseStore"]
