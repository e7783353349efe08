"""schemathesis hooks for the contract fuzzing run (loaded through tests/schemathesis.toml).

schemathesis derives credential parameters only from `apiKey` and `http` security schemes; for the spec's
`openIdConnect` scheme it knows of none, and its `ignored_auth` check then silently checks nothing. For the fuzzing
run the scheme is presented as what it is on the wire, an `http` bearer token, so `ignored_auth` replays every
accepted request without the token and with an invalid one and fails unless both are refused. The service itself
still serves and enforces the `openIdConnect` scheme with its scopes.
"""

import schemathesis


@schemathesis.hook
def before_load_schema(context, raw_schema):
    schemes = raw_schema["components"]["securitySchemes"]
    assert schemes["oidc"]["type"] == "openIdConnect", "the spec's security scheme changed; revisit this hook"
    schemes["oidc"] = {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": schemes["oidc"].get("description", ""),
    }


@schemathesis.hook
def filter_case(context, case):
    """A list's cursor is opaque: only the service makes valid ones (a `Link` header's), and any other is 400
    `invalid-cursor` by design (tests/api/test_issue_lists.py), which the positive-data check would count as a
    schema-valid request rejected. So no schema-valid generated case carries one, except for the audit lists
    (their cursor is a sequence number: any is valid). Negative cases keep theirs: they must be rejected."""
    if case.meta is not None and case.meta.generation.mode.name != "POSITIVE":
        return True
    audit_list = case.operation.path.endswith(("/audit-events", "/history"))
    return audit_list or not case.query or "cursor" not in case.query
