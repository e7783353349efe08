"""Realistic data at scale, written with set-based SQL through the migrated schema and its row-level security.

    .venv/bin/python -m bench.seed --issues 100000 --database-url postgresql+psycopg://exitus@127.0.0.1:5432/db

`seed(database_url, issues)` migrates the database, then writes several customers, each with projects, users,
issues (labels, assignees, open and closed) and comments. One project, "the measured project" of the first
customer, holds a fifth of all issues (a 200k-issue project of a 1M-issue database); the rest is spread over the
other projects of every customer, interleaved in time as a shared table is. Subjects and contents are composed from
pools of generated sentences over a vocabulary of a few hundred words, so trigram statistics look like text, plus:

- `common_term` in about half of all issues, of every project;
- `rare_term` in a handful (`rare_count`) of the measured project's issues, whatever the size, and in about one in
  `rare_every` issues of every other project: the same search in a bigger database finds the same rows here and
  more rows elsewhere, which is what a tenant-scoped search must not pay for.

It connects as the role in the URL (the database owner, never a superuser) and writes each customer's rows with that
customer bound (`exitus.customer_id`), as the service does: FORCEd row-level security checks every row. Issues are
numbered per project as the service numbers them (1, 2, ... oldest first; each project's counter where its numbers
end), and one in `vote_every` has votes: rows of issue_votes and the count beside the issue, as voting keeps them.
For speed the issues' and comments' non-unique indexes are dropped and rebuilt from their own definitions in the same
transaction (bulk load, then one index build), so the schema ends exactly as migrated, and the bulk rows get no
audit event each (their audit triggers are off in that transaction only). ANALYZE (VACUUM) after.
Everything is derived from the row number with hash functions: the same arguments give the same text.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

import psycopg
from sqlalchemy.engine import make_url

from exitus import migrations

RARE_TERM = "zeppelin"  # shares some trigrams with common words (pipeline, delivery), not all of them
COMMON_TERM = "timeout"
# (table, audit trigger of migrations/0005.audit) written in bulk without an audit event per row; customers, users
# and projects (a few hundred rows) keep theirs.
UNAUDITED_BULK = (("issues", "issues_audit"), ("comments", "comments_audit"))
LABELS = ("ui", "api", "backend", "db", "auth", "perf", "docs", "infra", "mobile", "billing", "search", "regression")
_VOCABULARY = """
account action active adapter address agent alert allocation analytics anchor android api application archive
array asset async attachment attribute audit avatar backend backup badge balance banner batch billing binary bitmap
blank block board body boolean border bounce branch breadcrumb broken browser bucket buffer build bundle button cache
calendar callback campaign canvas capacity card cart catalog category certificate channel chart checkout checksum
child chrome cipher client clipboard cluster column command comment commit compiler component compression config
connection console constraint container content context contract cookie coordinate copy counter coverage crash
credential cron cursor customer dashboard database dataset date deadline debug default delete dependency deploy
description desktop device dialog diff digest directory disk display docker document domain download draft driver
dropdown duplicate editor element email empty encoding endpoint engine entry environment error event export
extension failure feature feed field file filter firewall firmware flag folder font footer form format fragment
frame gateway gesture graph grid group handler hash header heap height history hook host icon image import index
input installer instance integer interface invoice job journal kernel key keyboard label language latency layout
ledger library license limit link list loader locale lock log login logout loop mail manifest map margin memory menu
merge message metadata method metric migration mirror mobile modal model module monitor mount mouse network node
notification number object offset order origin output overflow owner package padding page pagination panel parser
partition password patch path payload payment permission phone pipeline pixel plugin pointer policy popup port
preview printer priority process profile progress project prompt protocol proxy query queue quota radio range rate
record redirect reference refresh region registry release render replica report repository request resource
response result retry role route row runtime sandbox scheduler schema screen script scroll search secret section
selector sensor server service session setting shard shipping signature sitemap size slider snapshot socket sort
source spinner stack state status storage stream string style subscription summary switch sync table tag task
template tenant test text theme thread threshold thumbnail ticket tile token toolbar tooltip trace transaction
transfer tree trigger upload upstream url user validation value variable vendor version video view viewport volume
warning webhook widget window worker workflow zone
"""
_VERBS = """
fails breaks crashes hangs freezes stalls leaks drops loses ignores duplicates rejects truncates corrupts misses
blocks delays skips resets overflows flickers renders returns shows hides repeats retries reverts
"""
QUALIFIERS = (
    "after upgrade",
    "on startup",
    "under load",
    "when empty",
    "for new users",
    "on mobile",
    "in dark mode",
    "with large files",
    "at midnight",
    "behind the proxy",
    "in production",
    "on retry",
    "after logout",
    "when offline",
    "during sync",
    "after restart",
    "with unicode names",
)
_FIRST_NAMES = "Ada Alan Barbara Brian Carla Dennis Edsger Frances Grace Guido Hedy Ivan Joan Ken Linus Margaret"
_LAST_NAMES = "Lovelace Turing Liskov Kernighan Ritchie Dijkstra Allen Hopper Rossum Lamarr Sutherland Clarke"
VOCABULARY, VERBS = _VOCABULARY.split(), _VERBS.split()
FIRST_NAMES, LAST_NAMES = _FIRST_NAMES.split(), _LAST_NAMES.split()


@dataclass
class Manifest:
    """What a benchmark needs to know about a seeded database (JSON-serialisable: `dataclasses.asdict`)."""

    customer_id: str  # the customer of the measured project
    project_id: str  # the measured project: a fifth of all issues
    issue_ids: list[str]  # a sample of the measured project's issues
    user_subs: list[str]  # subjects of users of `customer_id` with no email or name (a dev token's profile)
    rare_term: str
    common_term: str
    issues_in_project: int
    issues_total: int
    rare_matches_in_project: int  # issues of the measured project whose subject or content contains rare_term
    rare_matches_total: int
    common_matches_in_project: int
    comments_total: int
    commented_issue_ids: list[str]  # issues of the measured project with `comments_per_hot_issue` comments each
    comments_per_hot_issue: int
    customer_ids: list[str]  # every seeded customer, the measured one first
    other_project_ids: list[str]  # the measured customer's other projects
    users_per_customer: int
    options: dict = field(default_factory=dict)
    seconds: float = 0.0

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2)

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        return cls(**json.loads(text))


def libpq_url(database_url: str) -> str:
    """The SQLAlchemy URL (postgresql+psycopg://...) as a URL libpq accepts."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


def _pools(rng: random.Random, subjects: int, sentences: int) -> tuple[list[str], list[str]]:
    """Subjects ("Checkout button fails on retry") and sentences of 8-16 words, all distinct-ish."""

    def subject() -> str:
        words = rng.sample(VOCABULARY, rng.randint(1, 3))
        text = f"{' '.join(words)} {rng.choice(VERBS)}"
        if rng.random() < 0.6:
            text += f" {rng.choice(QUALIFIERS)}"
        return text[0].upper() + text[1:]

    def sentence() -> str:
        words = [rng.choice(VOCABULARY if rng.random() < 0.8 else VERBS) for _ in range(rng.randint(8, 16))]
        if rng.random() < 0.3:
            words.insert(rng.randint(0, len(words)), str(rng.randint(1, 99999)))
        text = " ".join(words)
        return text[0].upper() + text[1:] + "."

    return [subject() for _ in range(subjects)], [sentence() for _ in range(sentences)]


def _bind(cur: psycopg.Cursor, customer_id: str) -> None:
    cur.execute("select set_config('exitus.customer_id', %s, true)", (customer_id,))


def _drop_bulk_indexes(cur: psycopg.Cursor, tables: Sequence[str]) -> list[str]:
    """Drops the tables' indexes that back no constraint; returns their definitions, to rebuild them after."""
    rows = cur.execute(
        """
        select i.relname, pg_get_indexdef(x.indexrelid)
        from pg_index x join pg_class i on i.oid = x.indexrelid join pg_class t on t.oid = x.indrelid
        where t.relname = any(%s) and t.relnamespace = 'public'::regnamespace
          and not x.indisunique and not exists (select 1 from pg_constraint c where c.conindid = x.indexrelid)
        """,
        (list(tables),),
    ).fetchall()
    for name, _definition in rows:
        cur.execute(f'drop index "{name}"')
    return [definition for _name, definition in rows]


def seed(
    database_url: str,
    issues: int,
    *,
    customers: int = 8,
    projects_per_customer: int = 5,
    users_per_customer: int | None = None,
    token_users: int = 64,
    measured_share: int = 5,
    rare_count: int = 5,
    rare_every: int = 1000,
    comment_percent: int = 20,
    hot_issues: int = 10,
    comments_per_hot_issue: int = 100,
    vote_every: int = 10,
    max_votes: int = 5,
    sample_size: int = 1000,
    chunks: int | None = None,
    random_seed: int = 9,
    rebuild_indexes: bool = True,
    vacuum: bool = True,
) -> Manifest:
    """Seeds an empty exitus database (migrating it first); see the module docstring. Returns its Manifest."""
    if issues < measured_share * max(rare_count, 1) or customers < 1 or projects_per_customer < 1:
        raise ValueError("too few issues, customers or projects for the requested shape")
    if customers * projects_per_customer < 2:
        raise ValueError("the measured project needs at least one other project beside it")
    started = time.monotonic()
    options = {k: v for k, v in locals().items() if k not in ("database_url", "issues", "started")}
    users_per_customer = users_per_customer or max(token_users, min(1000, issues // 1000))
    token_users = min(token_users, users_per_customer)
    chunks = chunks or max(1, min(200, issues // 2000))
    migrations.up(database_url)
    rng = random.Random(random_seed)
    subjects, sentences = _pools(rng, 8192, 4096)
    customer_ids = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(customers)]
    project_count = customers * projects_per_customer
    project_ids = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(project_count)]
    measured_issues = issues // measured_share  # rows n with n % measured_share == 0, n in 1..issues
    rare_step = max(1, measured_issues // rare_count)
    span_seconds = 3 * 365 * 86400  # three years of history

    with psycopg.connect(libpq_url(database_url)) as conn, conn.cursor() as cur:
        if cur.execute("select exists (select 1 from customers)").fetchone()[0]:
            raise ValueError("the database already holds customers: seed an empty one")
        cur.execute("set local maintenance_work_mem = '512MB'")
        cur.execute("set local work_mem = '64MB'")
        cur.execute("select setseed(%s)", (random_seed / 1000,))
        cur.execute("create temp table seed_subjects (id int primary key, t text not null) on commit drop")
        cur.execute("create temp table seed_phrases (id int primary key, t text not null) on commit drop")
        cur.execute(
            "insert into seed_subjects select i - 1, t from unnest(%s::text[]) with ordinality u(t, i)", (subjects,)
        )
        cur.execute(
            "insert into seed_phrases select i - 1, t from unnest(%s::text[]) with ordinality u(t, i)", (sentences,)
        )
        cur.execute(
            "create temp table seed_labelsets (id int primary key, labels text[] not null) on commit drop;"
            "create temp table seed_projects (idx int primary key, customer_idx int, customer_id uuid, id uuid,"
            " numbered int not null default 0)"
            " on commit drop;"
            "create temp table seed_users (customer_idx int, idx int, id uuid, primary key (customer_idx, idx))"
            " on commit drop"
        )
        labelsets = [sorted(rng.sample(LABELS, rng.choice((0, 1, 1, 2, 2, 3)))) for _ in range(64)]
        cur.executemany("insert into seed_labelsets values (%s, %s)", list(enumerate(labelsets)))
        cur.executemany(
            "insert into seed_projects values (%s, %s, %s, %s)",
            [
                (p, p // projects_per_customer, customer_ids[p // projects_per_customer], project_ids[p])
                for p in range(project_count)
            ],
        )
        dropped = _drop_bulk_indexes(cur, ["issues", "comments"]) if rebuild_indexes else []
        # The bulk rows are history, not changes made through the service: no audit event each (bench/README, "Data
        # size"). One event per row is also what made 1M issues unseedable in one transaction: each event updates
        # its customer's audit_chains row twice, and versions our own open transaction made are never pruned, so
        # every event walked a longer chain of them. The triggers are off for this transaction only (ALTER TABLE
        # is transactional; the owner may) and on again before it commits; every other trigger stays.
        for table, trigger in UNAUDITED_BULK:
            cur.execute(f"alter table {table} disable trigger {trigger}")

        for c, customer_id in enumerate(customer_ids):
            cur.execute(
                "insert into customers (id, name, description, labels, created_at, updated_at)"
                " values (%s, %s, %s, %s, %s, %s)",
                (
                    customer_id,
                    f"Seeded customer {c} {customer_id[:8]}",
                    rng.choice(sentences),
                    [rng.choice(LABELS)],
                    "2021-12-01T00:00:00Z",
                    "2021-12-01T00:00:00Z",
                ),
            )
            _bind(cur, customer_id)
            own = range(c * projects_per_customer, (c + 1) * projects_per_customer)
            cur.executemany(
                "insert into projects (customer_id, id, name, description, labels, created_at, updated_at)"
                " values (%s, %s, %s, %s, %s, %s, %s)",
                [
                    (
                        customer_id,
                        project_ids[p],
                        f"{rng.choice(VOCABULARY).title()} {rng.choice(VOCABULARY)} {p}",
                        rng.choice(sentences),
                        labelsets[p % 64],
                        "2021-12-15T00:00:00Z",
                        "2021-12-15T00:00:00Z",
                    )
                    for p in own
                ],
            )
            # The first `token_users` have no email or name, as a dev issuer's token carries none: their requests
            # find themselves unchanged and write nothing. The others look like people.
            cur.execute(
                """
                with made as (
                    insert into users (customer_id, sub, email, name, created_at, updated_at)
                    select %(customer)s, 'seed-' || %(c)s || '-' || j,
                           case when j >= %(token_users)s
                                then lower((%(first)s::text[])[1 + j %% %(nf)s]) || '.' || j || '@example' || %(c)s
                                     || '.test' end,
                           case when j >= %(token_users)s
                                then (%(first)s::text[])[1 + j %% %(nf)s] || ' ' || (%(last)s::text[])[1 + j %% %(nl)s]
                                end,
                           timestamptz '2021-12-20' + j * interval '1 minute',
                           timestamptz '2021-12-20' + j * interval '1 minute'
                    from generate_series(0, %(n)s::int - 1) j
                    returning id, sub
                )
                insert into seed_users select %(c)s, split_part(sub, '-', 3)::int, id from made
                """,
                {
                    "customer": customer_id,
                    "c": c,
                    "n": users_per_customer,
                    "token_users": token_users,
                    "first": FIRST_NAMES,
                    "last": LAST_NAMES,
                    "nf": len(FIRST_NAMES),
                    "nl": len(LAST_NAMES),
                },
            )

        bounds = [1 + (issues * k) // chunks for k in range(chunks + 1)]
        issue_sql = """
            with made as (
            insert into issues (customer_id, project_id, number, subject, content, severity, category, labels, state,
                                reporter, assignee, version, votes, created_at, updated_at)
            select p.customer_id, p.id,
                   -- numbered here, oldest first, after the project's earlier chunks (seed_projects.numbered):
                   -- taking each number from the project's counter (migrations/0006) would update one row per
                   -- issue in one transaction (a version each, none prunable before the commit)
                   p.numbered + row_number() over (partition by p.id order by g.n),
                   case when g.rare and (g.h / 7) %% 2 = 0 then s.t || ' near the ' || initcap(%(rare)s) else s.t end,
                   c1.t || ' ' || c2.t
                       || case when g.common then ' Request ' || %(common)s || ' after ' || g.n %% 60 || ' s.'
                               else '' end
                       || ' ' || c3.t
                       || case when g.rare and (g.h / 7) %% 2 = 1 then ' Seen with the ' || %(rare)s || ' build.'
                               else '' end,
                   (array['low', 'medium', 'medium', 'high', 'critical'])[1 + g.h %% 5],
                   (array['bug', 'bug', 'feature', 'improvement', 'task', 'question'])[1 + (g.h / 5) %% 6],
                   l.labels,
                   case when (g.h / 30) %% 10 < 3 then 'closed' else 'open' end,
                   r.id, a.id,
                   1 + (g.h / 300) %% 3,
                   -- one issue in `vote_every` has 1..`max_votes` votes, each a row of issue_votes (below)
                   case when abs(hashint8extended(g.n, 11)) %% %(vote_every)s = 0
                        then 1 + abs(hashint8extended(g.n, 12)) %% %(max_votes)s else 0 end,
                   g.created_at, g.created_at + ((g.h / 900) %% 720) * interval '1 hour'
            from (
                select n, h, created_at,
                       n %% %(share)s = 0 and (n / %(share)s) %% %(rare_step)s = %(rare_step)s / 2 as rare_measured,
                       n %% %(share)s <> 0 and abs(hashint8extended(n, 9)) %% %(rare_every)s = 0 as rare_elsewhere,
                       abs(hashint8extended(n, 10)) %% 2 = 0 as common,
                       case when n %% %(share)s = 0 then 0
                            else 1 + abs(hashint8extended(n, 1)) %% (%(projects)s - 1) end as pidx
                from (select n, abs(hashint8extended(n, 0)) as h,
                             timestamptz '2022-01-01' + n * (%(span)s::float8 / %(issues)s) * interval '1 second'
                                 as created_at
                      from generate_series(%(low)s::bigint, %(high)s::bigint) n) raw
            ) g0
            cross join lateral (select g0.*, g0.rare_measured or g0.rare_elsewhere as rare) g
            join seed_projects p on p.idx = g.pidx
            join seed_subjects s on s.id = abs(hashint8extended(g.n, 2)) %% 8192
            join seed_phrases c1 on c1.id = abs(hashint8extended(g.n, 3)) %% 4096
            join seed_phrases c2 on c2.id = abs(hashint8extended(g.n, 4)) %% 4096
            join seed_phrases c3 on c3.id = abs(hashint8extended(g.n, 5)) %% 4096
            join seed_labelsets l on l.id = abs(hashint8extended(g.n, 6)) %% 64
            join seed_users r on r.customer_idx = p.customer_idx
                              and r.idx = abs(hashint8extended(g.n, 7)) %% %(users)s
            left join seed_users a on a.customer_idx = p.customer_idx
                                   and a.idx = abs(hashint8extended(g.n, 8)) %% %(users)s
                                   and (g.h / 9000) %% 10 < 7
            where p.customer_idx = %(c)s
            returning project_id
            ),
            counted as (
                update seed_projects p set numbered = p.numbered + made_here.issues
                from (select project_id, count(*) as issues from made group by project_id) made_here
                where p.id = made_here.project_id
            )
            select count(*) from made
        """
        for k in range(chunks):
            for c, customer_id in enumerate(customer_ids):
                _bind(cur, customer_id)
                cur.execute(
                    issue_sql,
                    {
                        "rare": RARE_TERM,
                        "common": COMMON_TERM,
                        "share": measured_share,
                        "rare_step": rare_step,
                        "rare_every": rare_every,
                        "projects": project_count,
                        "span": span_seconds,
                        "issues": issues,
                        "low": bounds[k],
                        "high": bounds[k + 1] - 1,
                        "users": users_per_customer,
                        "vote_every": vote_every,
                        "max_votes": min(max_votes, users_per_customer),
                        "c": c,
                    },
                )
        for customer_id in customer_ids:  # each project's counter where its numbers end
            _bind(cur, customer_id)
            cur.execute(
                "update projects p set last_issue_number = s.numbered from seed_projects s"
                " where p.customer_id = %s and p.id = s.id",
                (customer_id,),
            )

        # The votes counted on the issues, by distinct users of the issue's customer (`max_votes` <= users). After
        # every chunk: the foreign key's check plans its lookup of issues once per session, and planned while the
        # table was empty it chose an index that scans the whole project for each vote.
        for c, customer_id in enumerate(customer_ids):
            _bind(cur, customer_id)
            cur.execute(
                """
                insert into issue_votes (customer_id, project_id, issue_id, user_id, created_at)
                select i.customer_id, i.project_id, i.id, u.id, i.created_at + k * interval '1 hour'
                from issues i
                cross join lateral generate_series(1, i.votes) k
                join seed_users u on u.customer_idx = %(c)s
                                  and u.idx = (abs(hashtextextended(i.id::text, 7)) + k) %% %(users)s
                where i.customer_id = %(customer)s and i.votes > 0
                """,
                {"c": c, "users": users_per_customer, "customer": customer_id},
            )

        _bind(cur, customer_ids[0])
        hot = [
            row[0]
            for row in cur.execute(
                "select id from issues where customer_id = %s and project_id = %s order by created_at, id limit %s",
                (customer_ids[0], project_ids[0], hot_issues),
            )
        ]
        comment_sql = """
            insert into comments (customer_id, project_id, issue_id, content, author, created_at, updated_at)
            select i.customer_id, i.project_id, i.id,
                   ph.t || case when k %% 2 = 0 then ' Another ' || %(common)s || ' here.' else '' end,
                   u.id, i.created_at + k * interval '37 minutes', i.created_at + k * interval '37 minutes'
            from issues i
            cross join lateral generate_series(1, case when i.id = any(%(hot)s::uuid[]) then %(per_hot)s
                                                       else 1 + abs(hashtextextended(i.id::text, 1)) %% 3 end) k
            join seed_phrases ph on ph.id = abs(hashtextextended(i.id::text, k)) %% 4096
            join seed_users u on u.customer_idx = %(c)s
                              and u.idx = abs(hashtextextended(i.id::text, k + 1000)) %% %(users)s
            where i.customer_id = %(customer)s
              and (i.id = any(%(hot)s::uuid[]) or abs(hashtextextended(i.id::text, 0)) %% 100 < %(percent)s)
        """
        for c, customer_id in enumerate(customer_ids):
            _bind(cur, customer_id)
            cur.execute(
                comment_sql,
                {
                    "common": COMMON_TERM,
                    "hot": hot,
                    "per_hot": comments_per_hot_issue,
                    "c": c,
                    "users": users_per_customer,
                    "customer": customer_id,
                    "percent": comment_percent,
                },
            )
        for definition in dropped:
            cur.execute(definition)
        for table, trigger in UNAUDITED_BULK:
            cur.execute(f"alter table {table} enable trigger {trigger}")
        conn.commit()

    with psycopg.connect(libpq_url(database_url), autocommit=True) as conn:
        conn.execute(
            ("vacuum (analyze) " if vacuum else "analyze ")
            + "customers, users, projects, issues, comments, issue_votes"
        )
        manifest = _manifest(conn, customer_ids, project_ids[:projects_per_customer], hot, sample_size)
    manifest.users_per_customer = users_per_customer
    manifest.comments_per_hot_issue = comments_per_hot_issue
    manifest.options = options
    manifest.seconds = round(time.monotonic() - started, 1)
    return manifest


def _manifest(
    conn: psycopg.Connection, customer_ids: list[str], own_projects: list[str], hot: list, sample_size: int
) -> Manifest:
    """Reads the manifest's facts back from the rows, as the measured customer sees them (and totals across all)."""
    customer_id, project_id = customer_ids[0], own_projects[0]
    like = {term: f"%{term}%" for term in (RARE_TERM, COMMON_TERM)}
    total = {"issues": 0, "comments": 0, "rare": 0}
    for other in customer_ids:
        with conn.transaction():
            _bind(conn.cursor(), other)
            issues, rare = conn.execute(
                "select count(*), count(*) filter (where subject ilike %(p)s or content ilike %(p)s) from issues"
                " where customer_id = %(c)s",
                {"p": like[RARE_TERM], "c": other},
            ).fetchone()
            total["issues"] += issues
            total["rare"] += rare
            total["comments"] += conn.execute(
                "select count(*) from comments where customer_id = %s", (other,)
            ).fetchone()[0]
    with conn.transaction():
        _bind(conn.cursor(), customer_id)
        scope = {"c": customer_id, "p": project_id}
        in_project, rare, common = conn.execute(
            """
            select count(*),
                   count(*) filter (where subject ilike %(rare)s or content ilike %(rare)s),
                   count(*) filter (where subject ilike %(common)s or content ilike %(common)s)
            from issues where customer_id = %(c)s and project_id = %(p)s
            """,
            {**scope, "rare": like[RARE_TERM], "common": like[COMMON_TERM]},
        ).fetchone()
        sample = [
            str(row[0])
            for row in conn.execute(
                "select id from issues where customer_id = %(c)s and project_id = %(p)s"
                " order by hashtextextended(id::text, 42) limit %(n)s",
                {**scope, "n": sample_size},
            )
        ]
        subs = [
            row[0]
            for row in conn.execute(
                "select sub from users where customer_id = %s and email is null and name is null order by created_at",
                (customer_id,),
            )
        ]
    return Manifest(
        customer_id=customer_id,
        project_id=project_id,
        issue_ids=sample,
        user_subs=subs,
        rare_term=RARE_TERM,
        common_term=COMMON_TERM,
        issues_in_project=in_project,
        issues_total=total["issues"],
        rare_matches_in_project=rare,
        rare_matches_total=total["rare"],
        common_matches_in_project=common,
        comments_total=total["comments"],
        commented_issue_ids=[str(i) for i in hot],
        comments_per_hot_issue=0,
        customer_ids=customer_ids,
        other_project_ids=own_projects[1:],
        users_per_customer=0,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--issues", type=int, required=True)
    parser.add_argument("--database-url", required=True, help="postgresql+psycopg://owner@host:port/db (not superuser)")
    parser.add_argument("--customers", type=int, default=8)
    parser.add_argument("--projects-per-customer", type=int, default=5)
    parser.add_argument("--no-vacuum", action="store_true", help="ANALYZE only, no VACUUM")
    args = parser.parse_args(argv)
    manifest = seed(
        args.database_url,
        args.issues,
        customers=args.customers,
        projects_per_customer=args.projects_per_customer,
        vacuum=not args.no_vacuum,
    )
    print(manifest.to_json())
    return 0


if __name__ == "__main__":
    sys.exit(main())
