"""The named queries: every one is documented, named verb_noun, and scoped to a customer when it touches tenant data."""

import re

import pugsql
import pytest

from exitus.resources import QUERIES_DIR

TENANT_TABLES = ("users", "projects", "issues", "comments")
MODULE = pugsql.module(str(QUERIES_DIR))
STATEMENTS = list(MODULE)


def test_every_entity_has_its_file():
    assert {p.stem for p in QUERIES_DIR.glob("*.sql")} >= {"customers", "projects", "issues", "comments", "users"}


DOCUMENTED = {
    match.group(1)
    for path in QUERIES_DIR.glob("*.sql")
    for match in re.finditer(r"^-- :name (\w+) :\w+\n-- :doc \S", path.read_text(), re.MULTILINE)
}


@pytest.mark.parametrize("statement", STATEMENTS, ids=[s.name for s in STATEMENTS])
def test_queries_are_named_verb_noun_and_documented(statement):
    assert re.fullmatch(r"(get|list|count|search|create|update|upsert|set|delete)_[a-z_]+", statement.name)
    assert statement.name in DOCUMENTED, f"{statement.name} has no -- :doc line under its -- :name"


@pytest.mark.parametrize("statement", STATEMENTS, ids=[s.name for s in STATEMENTS])
def test_tenant_queries_filter_by_customer(statement):
    sql = re.sub(r"--[^\n]*", "", statement.sql).lower()
    touched = [t for t in TENANT_TABLES if re.search(rf"\b(from|into|update|join)\s+{t}\b", sql)]
    if not touched:
        return
    if re.search(r"\binsert\s+into\s+(users|projects|issues|comments)\b", sql):
        # an insert writes the caller's customer_id first
        assert re.search(r"insert\s+into\s+\w+\s*\(\s*customer_id", sql), statement.name
        assert re.search(r"(values\s*\(\s*:customer_id|c\.id\s*=\s*:customer_id)", sql), statement.name
    else:
        assert re.search(r"\bcustomer_id\s*=\s*:customer_id", sql), (
            f"{statement.name} touches {touched} without filtering by customer_id"
        )
