"""The property store: artwork records, image facts, vectors, problems, checkpoints and study votes.

Open it with ``open_database(settings)``; only this package constructs the
SQL implementation, so callers depend on the ``PropertyStore`` protocol.
"""

from __future__ import annotations

from asterism.store.base import Batch, Known, PropertyStore
from asterism.store.database import Database, database_url, open_database

__all__ = ["Batch", "Database", "Known", "PropertyStore", "database_url", "open_database"]
