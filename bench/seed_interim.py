"""INTERIM seeding, until the scale branch's `bench/seed.py` lands (same interface: `seed(url, issues) -> Manifest`).

Deliberately small: one measured customer whose big project holds a fifth of the issues (at least 1000), the rest
spread over other customers' projects, so the measured project sits among other tenants' rows. Set-based SQL
(generate_series), one transaction per customer, as the app role (row-level security is forced, so each customer's
rows are written with that customer bound). No comments or labels: the scale branch's seeding has those.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import psycopg

RARE_TERM = "zanzibar"  # in a handful of the measured project's issues
COMMON_TERM = "printer"  # in about a third of every project's issues
RARE_EVERY = 2000


@dataclass
class Manifest:
    customer_id: str
    project_id: str
    issue_ids: list[str]
    user_subs: list[str]
    rare_term: str
    common_term: str
    issues_in_project: int
    issues: int
    extra: dict = field(default_factory=dict)


def libpq_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def seed(database_url: str, issues: int, *, customers: int = 4, users_per_customer: int = 64) -> Manifest:
    in_project = max(min(issues, 1000), issues // 5)
    others = issues - in_project
    customer_ids = [str(uuid.uuid4()) for _ in range(customers)]
    with psycopg.connect(libpq_url(database_url)) as conn:
        for number, customer_id in enumerate(customer_ids):
            count = in_project if number == 0 else others // (customers - 1) + (number <= others % (customers - 1))
            with conn.transaction():
                conn.execute("select set_config('exitus.customer_id', %s, true)", (customer_id,))
                conn.execute("insert into customers (id, name) values (%s, %s)", (customer_id, f"seed {customer_id}"))
                conn.execute(
                    "insert into users (customer_id, sub) select %s, 'seed-' || %s || '-' || n"
                    " from generate_series(1, %s) n",
                    (customer_id, number, users_per_customer),
                )
                project_id = conn.execute(
                    "insert into projects (customer_id, name) values (%s, 'big') returning id", (customer_id,)
                ).fetchone()[0]
                conn.execute(
                    """
                    insert into issues (customer_id, project_id, subject, content, severity, category, reporter,
                                        created_at)
                    select %(customer)s, %(project)s,
                           'Issue ' || n || ' ' || md5(n::text),
                           case when n %% %(rare_every)s = 7 then %(rare)s || ' ' else '' end
                             || case when n %% 3 = 0 then %(common)s || ' ' else '' end
                             || repeat(md5((n * 7)::text) || ' ', 6),
                           (array['low','medium','high','critical'])[1 + n %% 4],
                           (array['bug','feature','improvement','task','question'])[1 + n %% 5],
                           (select id from users where customer_id = %(customer)s order by id limit 1),
                           now() - make_interval(secs => %(count)s - n)
                    from generate_series(1, %(count)s) n
                    """,
                    {
                        "customer": customer_id,
                        "project": project_id,
                        "count": count,
                        "rare": RARE_TERM,
                        "common": COMMON_TERM,
                        "rare_every": RARE_EVERY,
                    },
                )
                if number == 0:
                    measured_project = str(project_id)
                    sample = conn.execute(
                        "select id from issues where customer_id = %s and project_id = %s order by random() limit 1000",
                        (customer_id, project_id),
                    ).fetchall()
    return Manifest(
        customer_id=customer_ids[0],
        project_id=measured_project,
        issue_ids=[str(row[0]) for row in sample],
        user_subs=[f"seed-0-{n}" for n in range(1, users_per_customer + 1)],
        rare_term=RARE_TERM,
        common_term=COMMON_TERM,
        issues_in_project=in_project,
        issues=issues,
    )
