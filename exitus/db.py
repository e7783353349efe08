"""The database: one SQLAlchemy engine (psycopg 3) and one pugsql module of the named queries in queries/*.sql."""

from __future__ import annotations

import pugsql
from pugsql.statement import ArrayLiteral
from sqlalchemy import create_engine

from exitus.config import Config
from exitus.resources import QUERIES_DIR


class Database:
    def __init__(self, config: Config):
        self.engine = create_engine(
            config.database_url,
            pool_size=config.db_pool_size,
            max_overflow=0,
            pool_timeout=config.db_pool_timeout,  # a bounded wait: exhaustion answers 503, never hangs
            pool_pre_ping=True,  # a connection broken by a database restart is replaced, not handed out
            hide_parameters=True,  # user data must not reach error messages or logs
            connect_args={
                "application_name": "exitus",
                "connect_timeout": 5,
                # Per-connection, so it costs no query per request.
                "options": f"-c statement_timeout={config.statement_timeout_ms}",
            },
        )
        # Built once: parsing the .sql files is not free, and transactions are tracked per module and thread.
        self.queries = pugsql.module(str(QUERIES_DIR))
        self.queries.setengine(self.engine)

    def close(self) -> None:
        self.engine.dispose()


def array(values: list[str]) -> ArrayLiteral:
    """A PostgreSQL array parameter (pugsql would expand a bare list into an IN-list)."""
    return ArrayLiteral(list(values))


def like_pattern(q: str | None) -> str | None:
    """An ILIKE pattern matching `q` as a literal substring, or None for no filter."""
    if not q:
        return None
    escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
