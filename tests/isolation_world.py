"""Two customers with look-alike data, written straight into a throwaway, migrated database: the world the isolation
tests (tests/test_isolation_*.py) look at one layer at a time.

Each customer has the same users (by subject, email and name), two projects of the same names, one issue per project
(number 1 of its project, with alice's vote) and one comment per issue, all saying "needle": so any query or policy
that forgets a customer or a parent finds a look-alike row to leak.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import psycopg
import pugsql

from exitus import migrations
from exitus.db import NamedQuery
from exitus.dev.postgres import LocalPostgres
from exitus.resources import QUERIES_DIR

CUSTOMERS = ("A", "B")
PROJECTS = ("alpha", "beta")
USERS = ("alice", "bob")


def load_statements(database_name: str) -> dict[str, NamedQuery]:
    """Every named query of queries/*.sql, compiled as exitus.db compiles them for the service."""
    return {s.name: NamedQuery(s, database_name) for s in pugsql.module(str(QUERIES_DIR))}


@dataclass
class Customer:
    id: str
    users: dict[str, str] = field(default_factory=dict)  # subject -> user id
    projects: dict[str, str] = field(default_factory=dict)  # name -> project id
    issues: dict[str, str] = field(default_factory=dict)  # project name -> its issue's id
    comments: dict[str, str] = field(default_factory=dict)  # project name -> the comment on its issue


@dataclass
class World:
    database: str
    statements: dict[str, NamedQuery]
    customers: dict[str, Customer]

    def run(self, connection: psycopg.Connection, query: str, /, **params: Any) -> Any:
        return self.statements[query](connection, params)


def migrated_database(postgres: LocalPostgres, name: str) -> str:
    """A fresh database (dropped first if a previous run left it), migrated as the service migrates; its URL."""
    postgres.drop_database(name)
    url = postgres.create_database(name)
    migrations.up(url)
    return url


def key_of(customer_id: str, world: World) -> str:
    """ "A" or "B": the world's name of a customer."""
    return next(key for key, customer in world.customers.items() if customer.id == customer_id)


def seed(connection: psycopg.Connection, database: str) -> World:
    """The two customers' data, written through the named queries on `connection` (committed)."""
    world = World(database, load_statements(database), {})
    for key in CUSTOMERS:
        customer_id = str(
            world.run(connection, "create_customer", name=f"customer {key}", description="", labels=[])["id"]
        )
        customer = world.customers[key] = Customer(customer_id)
        for subject in USERS:
            customer.users[subject] = str(
                world.run(
                    connection, "upsert_user", customer_id=customer_id, sub=subject, email=f"{subject}@x", name=subject
                )
            )
        for project in PROJECTS:
            row = world.run(
                connection, "create_project", customer_id=customer_id, name=project, description="", labels=[]
            )
            customer.projects[project] = str(row["id"])
            issue = world.run(
                connection,
                "create_issue",
                customer_id=customer_id,
                project_id=row["id"],
                subject="needle subject",
                content="needle content",
                severity="high",
                category="bug",
                labels=[],
                reporter=customer.users["alice"],
                assignee=customer.users["bob"],
            )
            customer.issues[project] = str(issue["id"])
            world.run(  # alice votes for every issue of her customer
                connection,
                "create_vote",
                customer_id=customer_id,
                project_id=row["id"],
                issue_id=issue["id"],
                user_id=customer.users["alice"],
            )
            comment = world.run(
                connection,
                "create_comment",
                customer_id=customer_id,
                project_id=row["id"],
                issue_id=issue["id"],
                content="needle comment",
                author=customer.users["alice"],
            )
            customer.comments[project] = str(comment["id"])
        # Idempotency keys: one both customers use, one only this customer uses, and one expired.
        for key, ttl_seconds in (("same-key", 3600), (f"only-{key_of(customer_id, world)}", 3600), ("expired", -60)):
            world.run(
                connection,
                "upsert_idempotency_key",
                customer_id=customer_id,
                key=key,
                fingerprint=f"fingerprint of customer {key_of(customer_id, world)}",
                status=201,
                headers="{}",
                body='{"needle": true}',
                ttl_seconds=ttl_seconds,
                prune=0,
            )
    connection.commit()
    return world
