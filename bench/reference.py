"""The reference server of `bench/run.py`: a bare Flask view doing exitus's one-row read, under gunicorn.

    gunicorn --worker-class gthread --workers W --threads P 'bench.reference:create_app()'

It answers `GET /v1/projects/<project_id>/issues/<id>` with the SQL exitus runs for it, compiled as exitus compiles
it (exitus.db.NamedQuery): `set_request_customer` (queries/session.sql; exitus binds the audit context in the same
message too) then `get_issue` (queries/issues.sql), in one transaction on a psycopg_pool connection. It binds the
customer because row-level security applies to the app role: without it every row is invisible. No authentication,
validation, logging, metrics or tracing: it is the floor that the same SQL costs in Python, which exitus is compared
to (bench/README.md).

Environment: REFERENCE_DATABASE (libpq URL, the app role), REFERENCE_CUSTOMER_ID (the customer whose rows are
read: the bare view has no token to take it from; the caller whose `voted` it answers is a user who voted for
nothing, the same probe exitus makes for such a caller), REFERENCE_POOL_SIZE (connections per worker; the same as
exitus's DB_POOL_SIZE and as the gthread threads, so a request never waits for a connection a thread could not use).
"""

from __future__ import annotations

import datetime
import os
import uuid
from typing import Any

import pugsql
from flask import Flask, abort, jsonify
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from exitus.db import NamedQuery
from exitus.resources import QUERIES_DIR


def named_query(name: str) -> str:
    """The named query's SQL from queries/*.sql, with its `:name` parameters as psycopg's `%(name)s`."""
    return NamedQuery(getattr(pugsql.module(str(QUERIES_DIR)), name), database_name="").sql


def _json_value(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    return value


def create_app(env: dict[str, str] | None = None) -> Flask:
    env = dict(os.environ) if env is None else env
    customer_id = env["REFERENCE_CUSTOMER_ID"]
    size = int(env.get("REFERENCE_POOL_SIZE", "10"))
    pool = ConnectionPool(
        env["REFERENCE_DATABASE"], min_size=size, max_size=size, kwargs={"row_factory": dict_row}, open=True
    )
    set_customer = named_query("set_request_customer")
    get_issue = named_query("get_issue")
    caller = str(uuid.uuid4())
    app = Flask(__name__)

    @app.get("/v1/projects/<project_id>/issues/<issue_id>")
    def read_issue(project_id: str, issue_id: str):
        # One transaction: the pool's context manager commits it when the block ends.
        with pool.connection() as conn:
            conn.execute(set_customer, {"customer_id": customer_id})
            row = conn.execute(
                get_issue, {"customer_id": customer_id, "project_id": project_id, "id": issue_id, "user_id": caller}
            )
            issue = row.fetchone()
        if issue is None:
            abort(404)
        return jsonify({key: _json_value(value) for key, value in issue.items()})

    app.extensions["reference_pool"] = pool
    return app
