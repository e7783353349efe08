"""/metrics: counts after known traffic, rejections included, exactly once; pool, query, auth and domain metrics;
names and help texts that promtool accepts."""

from __future__ import annotations

import shutil
import subprocess
import uuid
from collections import Counter
from collections.abc import Iterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from exitus import __version__
from exitus.app import create_app
from exitus.config import Config
from tests.conftest import RunningServer, assert_problem

Sample = tuple[str, frozenset[tuple[str, str]]]


def scrape(http: httpx.Client) -> dict[Sample, float]:
    response = http.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return parse_samples(response.text)


def parse_samples(exposition: str) -> dict[Sample, float]:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
    }


def value(samples: dict[Sample, float], name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def delta(before: dict[Sample, float], after: dict[Sample, float], name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


def requests_delta(before, after, method: str, route: str, status: int, group: str = "api") -> float:
    labels = {"method": method, "route": route, "status": str(status), "group": group}
    return delta(before, after, "exitus_http_requests_total", **labels)


def test_every_request_is_counted_once_by_route_template_rejections_included(http, tenant):
    project = tenant.create_project()
    api = tenant.api()
    before = scrape(http)

    for _ in range(3):
        assert api.get(f"/v1/projects/{project['id']}").status_code == 200
    assert http.get(f"/v1/projects/{project['id']}").status_code == 401  # Connexion's security: no Flask
    assert api.post("/v1/projects", json={"name": 42}).status_code == 400  # Connexion's validation: no Flask
    assert api.get(f"/v1/projects/{uuid.uuid4()}").status_code == 404
    assert http.get(f"/no/such/{uuid.uuid4()}").status_code == 404
    assert http.get("/healthz").status_code == 200

    after = scrape(http)
    assert requests_delta(before, after, "GET", "/v1/projects/{id}", 200) == 3
    assert requests_delta(before, after, "GET", "/v1/projects/{id}", 401) == 1
    assert requests_delta(before, after, "POST", "/v1/projects", 400) == 1
    assert requests_delta(before, after, "GET", "/v1/projects/{id}", 404) == 1
    assert requests_delta(before, after, "GET", "unmatched", 404) == 1
    assert requests_delta(before, after, "GET", "/healthz", 200, group="probe") == 1
    assert requests_delta(before, after, "GET", "/metrics", 200, group="meta") == 1  # the first scrape
    # The latency histogram saw each of them once too; no label carries a raw path with an id.
    histogram = {"method": "GET", "route": "/v1/projects/{id}", "group": "api"}
    assert delta(before, after, "exitus_http_request_duration_seconds_count", **histogram) == 5
    assert not any(project["id"] in str(labels) for (_name, labels) in after)
    assert value(after, "exitus_http_requests_in_flight") == 1  # the scrape itself


def test_health_probes_are_labelled_not_hidden(http):
    before = scrape(http)
    http.get("/healthz")
    http.get("/readyz")
    after = scrape(http)
    assert requests_delta(before, after, "GET", "/healthz", 200, group="probe") == 1
    assert requests_delta(before, after, "GET", "/readyz", 200, group="probe") == 1


def test_build_info_names_version_stage_and_branch(http):
    samples = scrape(http)
    assert value(samples, "exitus_build_info", version=__version__, stage="test", branch="main") == 1


def test_auth_outcomes_are_counted_by_reason(http, tenant, issuer):
    before = scrape(http)
    assert tenant.api().get("/v1/projects").status_code == 200
    assert http.get("/v1/projects").status_code == 401
    expired = tenant.token(ttl_seconds=-60)
    assert http.get("/v1/projects", headers={"Authorization": f"Bearer {expired}"}).status_code == 401
    foreign = issuer.token(customer=tenant.customer_id, client_id="someone-else")
    assert http.get("/v1/projects", headers={"Authorization": f"Bearer {foreign}"}).status_code == 401
    assert http.get("/v1/projects", headers={"Authorization": "Basic dXNlcjpwYXNz"}).status_code == 401
    assert http.get("/v1/projects", headers={"Authorization": "Bearer"}).status_code == 401
    assert tenant.api(scopes=["exitus/issues.read"]).get("/v1/projects").status_code == 403
    after = scrape(http)

    def outcome(outcome: str, reason: str) -> float:
        return delta(before, after, "exitus_auth_outcomes_total", outcome=outcome, reason=reason)

    assert outcome("accepted", "valid") == 2  # the 200 and the 403: the token was good, its scopes were not
    assert outcome("rejected", "missing") == 2  # none at all, and a Basic one: no bearer token either way
    assert outcome("rejected", "expired") == 1
    assert outcome("rejected", "wrong_audience") == 1
    assert outcome("rejected", "invalid_header") == 1
    assert outcome("forbidden", "insufficient_scope") == 1


def test_named_queries_are_timed_by_name(http, tenant):
    project = tenant.create_project()
    before = scrape(http)
    newcomer = tenant.api(subject=f"newcomer-{uuid.uuid4().hex}")  # recorded as a user on this first request
    assert newcomer.get(f"/v1/projects/{project['id']}").status_code == 200
    after = scrape(http)
    assert delta(before, after, "exitus_db_query_duration_seconds_count", query="get_project", outcome="ok") == 1
    assert delta(before, after, "exitus_db_query_duration_seconds_count", query="upsert_user", outcome="ok") == 1
    assert delta(before, after, "exitus_db_query_duration_seconds_count", query="list_projects", outcome="ok") == 0


def test_issue_and_comment_counters_count_committed_changes(http, tenant):
    project = tenant.create_project()
    api = tenant.api()
    before = scrape(http)
    issue = tenant.create_issue(project["id"])
    tenant.create_comment(project["id"], issue["id"])
    url = f"/v1/projects/{project['id']}/issues/{issue['id']}"
    fields = {k: issue[k] for k in ("subject", "content", "severity", "category", "labels")}
    closed = api.put(url, json={**fields, "state": "closed", "version": issue["version"]})
    assert closed.status_code == 200, closed.text
    renamed = api.put(url, json={**fields, "subject": "still closed", "version": closed.json()["version"]})
    assert renamed.status_code == 200, renamed.text
    assert "previous_state" not in renamed.json()
    stale = api.put(url, json={**fields, "state": "open", "version": issue["version"]})
    assert_problem(stale, 409, problem_type="version-conflict")  # rolled back: not a state change
    rejected = api.post(f"/v1/projects/{project['id']}/issues", json={**fields, "assignee": str(uuid.uuid4())})
    assert rejected.status_code in (400, 404, 409, 422), rejected.text  # an unknown assignee creates nothing
    after = scrape(http)
    assert delta(before, after, "exitus_issues_created_total") == 1
    assert delta(before, after, "exitus_comments_created_total") == 1
    assert delta(before, after, "exitus_issue_state_changes_total", state="closed") == 1
    assert delta(before, after, "exitus_issue_state_changes_total", state="open") == 0


@pytest.fixture
def small_pool_server(config: Config) -> Iterator[RunningServer]:
    """An exitus with one pooled connection and a short wait, to exhaust it on purpose."""
    small = Config(**{**config.__dict__, "db_pool_size": 1, "db_pool_timeout": 0.3})
    running = RunningServer(create_app(small)).start()
    yield running
    running.stop()


def test_pool_exhaustion_is_a_503_and_is_counted(small_pool_server, tenant):
    token = tenant.token()
    with httpx.Client(base_url=small_pool_server.url, timeout=30) as client:
        assert client.get("/v1/projects", headers={"Authorization": f"Bearer {token}"}).status_code == 200
        before = scrape(client)
        assert value(before, "exitus_db_pool_size") >= 1
        with small_pool_server.app.database.engine.connect():  # the pool's only connection, held
            during = scrape(client)
            response = client.get("/v1/projects", headers={"Authorization": f"Bearer {token}"})
            assert_problem(response, 503)
            assert response.headers["retry-after"]
        after = scrape(client)
    assert delta(before, during, "exitus_db_pool_connections_in_use") == 1
    assert delta(before, after, "exitus_db_connection_errors_total", kind="pool_timeout") == 1
    assert value(after, "exitus_db_pool_connections_in_use") == value(before, "exitus_db_pool_connections_in_use")
    assert value(after, "exitus_db_pool_waiting") == 0
    assert requests_delta(before, after, "GET", "/v1/projects", 503) == 1


def test_promtool_accepts_the_metric_names_and_help(http, tenant):
    tenant.create_issue(tenant.create_project()["id"])  # so that every family has samples
    promtool = shutil.which("promtool")
    assert promtool, "promtool is missing: install the Debian package `prometheus` (`make test` installs it)"
    text = http.get("/metrics").text
    result = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    names = Counter(line.split()[2] for line in text.splitlines() if line.startswith("# HELP exitus_"))
    expected = {"exitus_http_requests_total", "exitus_db_query_duration_seconds", "exitus_auth_outcomes_total"}
    assert expected <= set(names)
    assert all(count == 1 for count in names.values()), names


def test_metrics_need_no_token_and_are_not_in_the_api_spec(http):
    assert http.get("/metrics").status_code == 200
    spec = http.get("/openapi.json").json()
    assert "/metrics" not in spec["paths"]
