"""bench/seed.py at a tiny size: the manifest agrees with the rows, and the rows obey row-level security."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest

from bench.seed import Manifest, libpq_url, seed
from exitus import migrations
from exitus.dev.postgres import LocalPostgres

ISSUES = 600


@pytest.fixture(scope="module")
def seeded(postgres: LocalPostgres) -> Iterator[tuple[str, Manifest, set[str]]]:
    name = f"seed_{uuid.uuid4().hex[:12]}"
    url = postgres.create_database(name)
    migrations.up(url)
    indexes_as_migrated = index_definitions(url)
    manifest = seed(
        url,
        ISSUES,
        customers=3,
        projects_per_customer=2,
        rare_every=40,
        sample_size=50,
        hot_issues=2,
        comments_per_hot_issue=7,
    )
    yield url, manifest, indexes_as_migrated
    postgres.drop_database(name)


def index_definitions(url: str) -> set[str]:
    with psycopg.connect(libpq_url(url)) as conn:
        return {row[0] for row in conn.execute("select indexdef from pg_indexes where schemaname = 'public'")}


def as_customer(url: str, customer_id: str | None, query: str, params: tuple = ()) -> list[tuple]:
    """Rows of `query` as the database owner (the seeding role) with `customer_id` bound, as the service binds it."""
    with psycopg.connect(libpq_url(url)) as conn:
        if customer_id is not None:
            conn.execute("select set_config('exitus.customer_id', %s, true)", (customer_id,))
        return conn.execute(query, params).fetchall()


def test_manifest_counts_match_the_rows_the_customer_sees(seeded):
    url, manifest, _ = seeded
    rows = as_customer(
        url,
        manifest.customer_id,
        "select id, subject, content from issues where project_id = %s",
        (manifest.project_id,),
    )
    assert len(rows) == manifest.issues_in_project == ISSUES // 5
    rare = [r for r in rows if manifest.rare_term in (r[1] + " " + r[2]).lower()]
    assert len(rare) == manifest.rare_matches_in_project == 5
    common = [r for r in rows if manifest.common_term in (r[1] + " " + r[2]).lower()]
    assert len(common) == manifest.common_matches_in_project
    assert 0.3 < len(common) / len(rows) < 0.7
    ids = {str(r[0]) for r in rows}
    assert set(manifest.issue_ids) <= ids and len(set(manifest.issue_ids)) == 50
    assert len({r[1] for r in rows}) > len(rows) / 2  # varied subjects, not one repeated string


def test_every_customer_has_its_own_rows_and_the_rare_term_elsewhere(seeded):
    url, manifest, _ = seeded
    total, rare_total = 0, 0
    for customer_id in manifest.customer_ids:
        issues, rare, foreign = as_customer(
            url,
            customer_id,
            "select count(*), count(*) filter (where subject ilike %s or content ilike %s),"
            " count(*) filter (where customer_id <> %s) from issues",
            (f"%{manifest.rare_term}%", f"%{manifest.rare_term}%", customer_id),
        )[0]
        assert issues > 0 and foreign == 0
        total += issues
        rare_total += rare
    assert total == manifest.issues_total == ISSUES
    assert rare_total == manifest.rare_matches_total > manifest.rare_matches_in_project


def test_rows_are_invisible_without_the_customer_binding(seeded):
    url, manifest, _ = seeded
    for table in ("users", "projects", "issues", "comments"):
        assert as_customer(url, None, f"select count(*) from {table}") == [(0,)]
    other = manifest.customer_ids[1]
    assert as_customer(url, other, "select count(*) from issues where project_id = %s", (manifest.project_id,)) == [
        (0,)
    ]


def test_token_users_match_seeded_rows_with_no_profile(seeded):
    url, manifest, _ = seeded
    rows = as_customer(url, manifest.customer_id, "select sub, email, name from users")
    profiles = {sub: (email, name) for sub, email, name in rows}
    assert manifest.user_subs and all(profiles[sub] == (None, None) for sub in manifest.user_subs)
    assert len(rows) == manifest.users_per_customer


def test_hot_issues_carry_their_comments_and_totals_add_up(seeded):
    url, manifest, _ = seeded
    per_issue = dict(
        as_customer(
            url,
            manifest.customer_id,
            "select issue_id::text, count(*) from comments where project_id = %s group by issue_id",
            (manifest.project_id,),
        )
    )
    assert [per_issue[i] for i in manifest.commented_issue_ids] == [7, 7]
    total = sum(as_customer(url, c, "select count(*) from comments")[0][0] for c in manifest.customer_ids)
    assert total == manifest.comments_total > 14


def test_schema_ends_as_migrated_and_the_manifest_round_trips(seeded):
    url, manifest, indexes_as_migrated = seeded
    assert index_definitions(url) == indexes_as_migrated
    assert Manifest.from_json(manifest.to_json()) == manifest


def test_seeding_a_database_that_holds_customers_is_refused(seeded):
    url, _, _ = seeded
    with pytest.raises(ValueError, match="already holds customers"):
        seed(url, ISSUES)


def test_issues_are_numbered_per_project_from_one_and_counters_end_where_numbers_do(seeded):
    url, manifest, _ = seeded
    for customer_id in manifest.customer_ids:
        rows = as_customer(
            url,
            customer_id,
            "select p.id, p.last_issue_number, array_agg(i.number order by i.created_at, i.id)"
            " from projects p join issues i on i.project_id = p.id group by p.id, p.last_issue_number",
        )
        assert rows
        for _project, last, numbers in rows:
            assert numbers == list(range(1, len(numbers) + 1))  # oldest first, unique, no gap
            assert last == len(numbers)


def test_votes_are_rows_of_distinct_users_and_each_issue_counts_its_own(seeded):
    url, manifest, _ = seeded
    counted, voted = 0, 0
    for customer_id in manifest.customer_ids:
        rows = as_customer(
            url,
            customer_id,
            "select i.votes, count(v.user_id), count(distinct v.user_id) from issues i"
            " left join issue_votes v on v.issue_id = i.id group by i.id, i.votes",
        )
        assert all(votes == rows_ == distinct for votes, rows_, distinct in rows)
        counted += sum(votes for votes, _, _ in rows)
        voted += sum(1 for votes, _, _ in rows if votes)
    assert 0 < voted < ISSUES / 2 and counted > voted  # some issues have votes, some more than one


def test_audit_triggers_are_on_after_seeding_and_the_next_change_is_audited(seeded):
    url, manifest, _ = seeded
    triggers = dict(
        as_customer(
            url, None, "select tgname, tgenabled from pg_trigger where tgname like '%%audit%%' and not tgisinternal"
        )
    )
    assert {"customers_audit", "users_audit", "projects_audit", "issues_audit", "comments_audit"} <= set(triggers)
    assert set(triggers.values()) == {"O"}  # enabled (origin), as migrated
    with psycopg.connect(libpq_url(url)) as conn:
        conn.execute("select set_config('exitus.customer_id', %s, true)", (manifest.customer_id,))
        before = conn.execute("select count(*) from audit_events where resource_id = %s", (manifest.issue_ids[0],))
        assert before.fetchone() == (0,)  # seeded history: no event
        conn.execute("update issues set subject = 'Changed after seeding' where id = %s", (manifest.issue_ids[0],))
        after = conn.execute("select action from audit_events where resource_id = %s", (manifest.issue_ids[0],))
        assert after.fetchall() == [("issue.updated",)]
        conn.rollback()
