"""The search function's index (migrations/0010.search-scoped.sql) never loses a match: exitus_search_issues finds
exactly the issues of the project that ILIKE matches, through trigram keys scoped by project, for multibyte and
mixed-case text, terms under three characters, escaped wildcards, raw wildcards, and terms whose trigrams are
spread over subject and content without either matching."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest

from bench.seed import libpq_url
from exitus.db import like_pattern

# (subject, content) of the measured project's issues; each term below matches at most two, so the function's sample
# (three matches among the project's 500 newest: frequent, null) never answers for it and the index does.
TEXTS = [
    ("Café crème brûlée", "the dessert menu"),
    ("ΣΟΦΙΑ greets the team", "hello"),
    ("100% done_now", "progress report"),
    ("back\\slash in paths", "windows"),
    ("gamma", "delta"),
    ("ZEPPELIN over the pipeline", "delivery"),
    ("plain", "a zeppelin in the content"),
    ("zq", "two letters"),
    ("naïve ÜBER résumé", "accents"),
    ("tab\tseparated\nlines", "whitespace"),
]
# q -> the indexes in TEXTS of the issues it must find (case-insensitive substring of subject or content).
EXPECTED = {
    "crème": {0},
    "CRÈME BRÛ": {0},
    "me brû": {0},
    "é c": {0},
    "ée": {0},
    "σοφ": {1},
    "ΣΟΦΊ": set(),  # an accented iota is another letter
    "0% d": {2},
    "% done": {2},
    "e_n": {2},
    "done_": {2},
    "k\\s": {3},
    "\\": {3},
    "gamma delta": set(),  # every trigram is in subject or content, the phrase in neither
    "amma": {4},
    "zeppelin": {5, 6},
    "ZePpElIn OvEr": {5},
    "zq": {7},
    "q": {7},
    "über r": {8},
    "ïve": {8},
    "b\ts": {9},
    "d\nli": {9},
    "nowhere at all": set(),
}


@pytest.fixture(scope="module")
def project(database_url: str) -> Iterator[tuple[str, str, list[str], str]]:
    """(customer, project, issue ids in TEXTS' order, another project of the customer holding the same texts)."""
    customer, measured, other = (str(uuid.uuid4()) for _ in range(3))
    with psycopg.connect(libpq_url(database_url)) as conn:  # the owner, bound as requests are
        conn.execute("select set_config('exitus.customer_id', %s, false)", (customer,))
        conn.execute("insert into customers (id, name) values (%s, %s)", (customer, f"search {customer}"))
        user = conn.execute("insert into users (customer_id, sub) values (%s, 's') returning id", (customer,))
        user = user.fetchone()[0]
        for project_id in (measured, other):
            conn.execute(
                "insert into projects (customer_id, id, name) values (%s, %s, %s)", (customer, project_id, project_id)
            )
        ids = {}
        for project_id in (other, measured):
            for subject, content in TEXTS:
                row = conn.execute(
                    "insert into issues (customer_id, project_id, subject, content, severity, category, reporter)"
                    " values (%s, %s, %s, %s, 'low', 'bug', %s) returning id",
                    (customer, project_id, subject, content, user),
                )
                ids[project_id, subject] = str(row.fetchone()[0])
    yield customer, measured, [ids[measured, subject] for subject, _ in TEXTS], other


def search(database_url: str, customer: str, project: str, pattern: str) -> set[str] | None:
    """exitus_search_issues as the serving role calls it, the customer bound."""
    with psycopg.connect(libpq_url(database_url)) as conn:
        conn.execute("set role exitus_service")
        conn.execute("select set_config('exitus.customer_id', %s, false)", (customer,))
        found = conn.execute("select exitus_search_issues(%s, %s, %s, 200)", (customer, project, pattern)).fetchone()
    return None if found[0] is None else {str(i) for i in found[0]}


def ilike_matches(database_url: str, customer: str, project: str, pattern: str) -> dict[str, bool]:
    """The project's issues that ILIKE matches, each with whether its search keys hold the pattern's: what the index
    looks up, whether or not a plan uses it on a table this small."""
    with psycopg.connect(libpq_url(database_url)) as conn:
        conn.execute("select set_config('exitus.customer_id', %s, false)", (customer,))
        rows = conn.execute(
            "select id::text, exitus_search_keys(project_id, subject, content)"
            "  @> exitus_search_pattern_keys(project_id, %(p)s)"
            " from issues where project_id = %(project)s and (subject ilike %(p)s or content ilike %(p)s)",
            {"project": project, "p": pattern},
        ).fetchall()
    return dict(rows)


@pytest.mark.parametrize("q", list(EXPECTED))
def test_the_search_finds_what_ilike_finds(database_url, project, q):
    customer, measured, ids, _other = project
    expected = {ids[i] for i in EXPECTED[q]}
    assert search(database_url, customer, measured, like_pattern(q)) == expected
    assert ilike_matches(database_url, customer, measured, like_pattern(q)) == dict.fromkeys(expected, True)


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("%zep%lin%", {5, 6}),
        ("%zep_elin%", {5, 6}),
        ("zeppelin%", {5}),
        ("%pipeline", {5}),
        ("%d_ne\\_n%", {2}),
        ("%ga%ta%", set()),
    ],
)
def test_the_search_takes_any_like_pattern_with_wildcards(database_url, project, pattern, expected):
    customer, measured, ids, _other = project
    assert search(database_url, customer, measured, pattern) == {ids[i] for i in expected}
    assert ilike_matches(database_url, customer, measured, pattern) == {ids[i]: True for i in expected}


def test_the_search_keys_are_scoped_by_project(database_url, project):
    customer, _measured, ids, other = project
    theirs = search(database_url, customer, other, like_pattern("zeppelin"))
    assert len(theirs) == 2
    assert theirs.isdisjoint(ids)


def test_a_term_has_the_trigrams_of_its_runs_and_a_run_under_three_letters_none(database_url, project):
    _customer, measured, _ids, _other = project
    with psycopg.connect(libpq_url(database_url)) as conn:
        keys = conn.execute(
            "select cardinality(exitus_search_pattern_keys(%s, %s)), cardinality(exitus_search_pattern_keys(%s, %s))",
            (measured, like_pattern("zeppelin"), measured, like_pattern("zq")),
        ).fetchone()
    assert keys == (6, 0)  # zep epp ppe pel eli lin; two letters have no trigram of their own
