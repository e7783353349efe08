"""Request bodies (exitus.bodies, and the edge's Content-Type rules): the document the handler sees is the document
that was validated; JSON is UTF-8; malformed documents are 400 problems, never a 500 or a traceback; and the
database holds the spec's limits itself. Hostile inputs are generated (hypothesis), not picked one by one."""

from __future__ import annotations

import json
import uuid
from typing import Any

import psycopg
import psycopg.errors
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exitus.db import Database, RequestContext
from exitus.errors import CONSTRAINT_ERRORS, BadRequest, ValidationFailed, from_integrity_error
from tests.conftest import assert_problem, raw_request

FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
JSON_MEDIA = "application/json"


def project_names(api) -> set[str]:
    response = api.get("/v1/projects", params={"limit": 100})
    assert response.status_code == 200
    return {project["name"] for project in response.json()["projects"]}


# ------------------------------------------------------------------------------------------------------ media types


def random_case(text: str) -> st.SearchStrategy[str]:
    return st.lists(st.booleans(), min_size=len(text), max_size=len(text)).map(
        lambda upper: "".join(c.upper() if u else c.lower() for c, u in zip(text, upper, strict=True))
    )


CHARSETS = ["utf-8", "UTF-8", "utf8", "utf-7", "utf-16", "utf-16le", "utf-32", "latin-1", "iso-8859-1", "ascii", "foo"]
MEDIA_TYPES = [JSON_MEDIA, "application/problem+json", "application/foo+json", "text/json", "text/plain", "*/*"]


@st.composite
def content_types(draw) -> tuple[str, str, str | None]:
    """(header value, media type, charset or None), the parts in any case and spacing, quoted or not."""
    media = draw(st.sampled_from(MEDIA_TYPES).flatmap(random_case))
    charset = draw(st.none() | st.sampled_from(CHARSETS).flatmap(random_case))
    parameters = []
    if charset is not None:
        value = f'"{charset}"' if draw(st.booleans()) else charset
        parameters.append(f"{draw(random_case('charset'))}={value}")
    if draw(st.booleans()):
        parameters.append("profile=x")
    parameters = draw(st.permutations(parameters))
    separator = draw(st.sampled_from([";", "; ", " ;  "]))
    return separator.join([media, *parameters]), media, charset


def test_json_bodies_are_utf_8_in_any_spelling_of_the_media_type(tenant, server, no_tracebacks):
    """Accepted exactly when the media type is application/json (any case) and the charset, if any, UTF-8; a JSON
    type in another charset is 415 before anyone reads the body, another media type is Connexion's 415. What is
    stored is the UTF-8 reading of the bytes sent."""
    token = tenant.token()

    @FUZZ
    @given(content_type=content_types())
    def sent_as(content_type: tuple[str, str, str | None]) -> None:
        header, media, charset = content_type
        name = f"café {uuid.uuid4()}"  # not ASCII: a charset mix-up would show
        body = json.dumps({"name": name, "labels": ["ü"]}, ensure_ascii=False).encode("utf-8")
        head = f"POST /v1/projects HTTP/1.1\nHost: x\nAuthorization: Bearer {token}\nContent-Type: {header}"
        response = raw_request(server.port, f"{head}\nContent-Length: {len(body)}", body)
        if media.lower() == JSON_MEDIA and (charset is None or charset.lower() == "utf-8"):
            assert response.status == 201, (header, response.body)
            created = json.loads(response.body)
            assert (created["name"], created["labels"]) == (name, ["ü"])
        else:
            assert response.status == 415, (header, response.status, response.body)
            response.problem()

    sent_as()


def test_a_utf_7_body_that_hides_another_document_is_refused(tenant):
    """Declared UTF-7, these bytes were validated as one document and handed to the handler as another."""
    api = tenant.api()
    hidden = "+ACIAXQAs-"  # UTF-7 for `"],`: where UTF-8 sees a plain string
    body = ('{"name": "hidden' + hidden + '", "labels": []}').encode()
    for charset in ("utf-7", "UTF-7", '"utf-7"'):
        response = api.post("/v1/projects", content=body, headers={"Content-Type": f"{JSON_MEDIA};charset={charset}"})
        assert_problem(response, 415, "UTF-8")
    assert not any(name.startswith("hidden") for name in project_names(api))


def test_a_body_without_a_content_type_is_415(tenant, server):
    body = b'{"name": "untyped", "labels": []}'
    head = f"POST /v1/projects HTTP/1.1\nHost: x\nAuthorization: Bearer {tenant.token()}\nContent-Length: {len(body)}"
    response = raw_request(server.port, head, body)
    assert response.status == 415
    assert "Content-Type: application/json" in response.problem()["detail"]
    twice = raw_request(server.port, f"{head}\nContent-Type: {JSON_MEDIA}\nContent-Type: {JSON_MEDIA}", body)
    assert twice.status == 400
    assert "untyped" not in project_names(tenant.api())


# -------------------------------------------------------------------------------------------------- hostile documents


def surrogate_escape() -> st.SearchStrategy[str]:
    return st.integers(0xD800, 0xDFFF).map(lambda code: f"\\u{code:04x}")


def hostile_strings() -> st.SearchStrategy[str]:
    """JSON string literals holding a lone surrogate escape somewhere (a pair in the wrong order is two lone ones)."""
    text = st.text(st.characters(codec="utf-8", exclude_characters='"\\'), max_size=20)
    return st.builds(lambda a, s, b: f'"{a}{s}{b}"', text, surrogate_escape(), text)


def deep_nesting() -> st.SearchStrategy[str]:
    return st.builds(
        lambda depth, opener: opener * depth + "1" + {"[": "]", '{"a":': "}"}[opener] * depth,
        st.integers(min_value=200, max_value=100_000),  # within MAX_BODY_BYTES
        st.sampled_from(["[", '{"a":']),
    )


def huge_numbers() -> st.SearchStrategy[str]:
    digits = st.integers(min_value=4301, max_value=60_000).map(lambda n: "9" * n)
    exponents = st.sampled_from(["1e400", "-1e999", "NaN", "Infinity", "-Infinity", "1" + "0" * 400 + ".5"])
    return st.one_of(digits, st.builds(lambda d: "-" + d, digits), exponents)


@st.composite
def hostile_documents(draw) -> tuple[str, bytes]:
    """(field, body): a valid project update with one field's value, or a key, replaced by something hostile."""
    document: dict[str, str] = {"name": '"fine name"', "labels": '["a"]', "description": '""', "version": "1"}
    field = draw(st.sampled_from(sorted(document)))
    document[field] = draw(st.one_of(hostile_strings(), deep_nesting(), huge_numbers()))
    if draw(st.booleans()):
        document[field + "x"] = document.pop(field)  # the field stays, but as an unknown key...
        key = draw(hostile_strings())
        document[key.strip('"')] = '"x"'  # ...and a key with a lone surrogate joins it
    body = "{" + ", ".join(f'"{k}": {v}' for k, v in document.items()) + "}"
    return field, body.encode("utf-8", "surrogatepass")


def test_hostile_documents_are_400_problems_and_change_nothing(tenant, server, no_tracebacks):
    """Deep nesting (RecursionError), lone surrogates (UnicodeEncodeError in the driver), numbers of thousands of
    digits (ValueError): each used to be a 500 with a traceback."""
    project = tenant.create_project("the only one", labels=["a"])
    token = tenant.token()
    url = f"/v1/projects/{project['id']}"

    @FUZZ
    @given(hostile=hostile_documents(), method=st.sampled_from(["POST", "PUT"]))
    def sent(hostile: tuple[str, bytes], method: str) -> None:
        _, body = hostile
        target = url if method == "PUT" else "/v1/projects"
        head = f"{method} {target} HTTP/1.1\nHost: x\nAuthorization: Bearer {token}\nContent-Type: {JSON_MEDIA}"
        response = raw_request(server.port, f"{head}\nContent-Length: {len(body)}", body)
        assert response.status == 400, (body[:200], response.status, response.body[:300])
        assert len(response.problem()["detail"]) <= 500

    sent()
    after = tenant.api().get(url).json()
    assert (after["name"], after["version"]) == ("the only one", 1)
    assert project_names(tenant.api()) == {"the only one"}


def test_a_document_passed_on_is_the_validated_one(tenant, server):
    """A UTF-8 byte-order mark, or a body that a parser could read as UTF-16: never one document for validation
    and another for the handler."""
    api = tenant.api()
    token = tenant.token()
    document = {"name": "bom", "labels": []}
    for body in (b"\xef\xbb\xbf" + json.dumps(document).encode(), json.dumps(document).encode("utf-16-le")):
        head = f"POST /v1/projects HTTP/1.1\nHost: x\nAuthorization: Bearer {token}\nContent-Type: {JSON_MEDIA}"
        response = raw_request(server.port, f"{head}\nContent-Length: {len(body)}", body)
        assert response.status == 400, body
        response.problem()
    assert "bom" not in project_names(api)


# ----------------------------------------------------------------------------------------------- limits in the database


@pytest.fixture(scope="module")
def database(config) -> Database:
    db = Database(config)
    yield db
    db.close()


def insert_project(database: Database, customer_id: str, **fields: Any) -> None:
    row = {"name": f"p {uuid.uuid4()}", "description": "", "labels": [], **fields}
    database.run(
        lambda queries: queries.create_project(customer_id=customer_id, **row),
        context=RequestContext(customer_id=customer_id),
    )


@pytest.mark.parametrize(
    ("fields", "constraint"),
    [
        ({"labels": ["x" * 65]}, "projects_label_length"),
        ({"labels": ["ok", "x" * 30_000]}, "projects_label_length"),
        ({"labels": [""]}, "projects_label_length"),
        ({"labels": ["ok", None]}, "projects_label_length"),
        ({"labels": ["x"] * 33}, "projects_labels_check"),
        ({"name": "x" * 201}, "projects_name_check"),
        ({"description": "x" * 4001}, "projects_description_check"),
    ],
    ids=["label-65", "label-30000", "label-empty", "label-null", "33-labels", "name-201", "description-4001"],
)
def test_the_database_refuses_what_the_spec_forbids_even_past_validation(database, tenant, fields, constraint):
    with pytest.raises(psycopg.errors.CheckViolation) as refused:
        insert_project(database, tenant.customer_id, **fields)
    assert refused.value.diag.constraint_name == constraint
    mapped = from_integrity_error(refused.value)
    assert isinstance(mapped, BadRequest) and mapped.status == 400


def test_the_limits_at_the_edge_of_the_spec_are_stored(database, tenant):
    insert_project(database, tenant.customer_id, labels=["x" * 64] * 32, name="x" * 200, description="x" * 4000)


def test_every_check_on_what_clients_write_answers_400(postgres, database_url):
    """A new CHECK constraint on a table clients write must say what its violation means (exitus/errors.py)."""
    with psycopg.connect(postgres.libpq_dsn("exitus_test", "exitus")) as connection:
        checks = connection.execute(
            "select conname from pg_constraint c join pg_class t on t.oid = c.conrelid"
            " where c.contype = 'c' and t.relname in ('customers', 'projects', 'issues', 'comments')"
        ).fetchall()
    names = {name for (name,) in checks} - KEPT_BY_THE_DATABASE
    assert len(names) >= 16
    assert {name: CONSTRAINT_ERRORS.get(name, (None,))[0] for name in names} == dict.fromkeys(names, ValidationFailed)


# Checks on values no client writes (migrations/0006: counters the database keeps): a violation is a bug, a 500.
KEPT_BY_THE_DATABASE = {"issues_number_check", "issues_votes_check", "projects_last_issue_number_check"}
