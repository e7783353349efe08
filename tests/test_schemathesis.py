"""Contract fuzzing: schemathesis runs every operation of the served spec against the live server with a valid token.

tests/schemathesis.toml turns on every built-in check (ignored_auth, negative_data_rejection, use_after_free,
ensure_resource_availability, positive_data_acceptance, ... besides the defaults) and a stateful phase that follows
the `links` the spec declares (create project → create issue → comment → update → read). The token carries every
scope, customer administration included, for the test's own customer; the spec has no DELETE, so the fuzzer cannot
remove its own customer mid-run. The bounded default budget keeps `make test` short; `make fuzz` raises
`EXITUS_FUZZ_EXAMPLES` and sets `EXITUS_FUZZ_MAX_TIME` (with a time budget, schemathesis repeats fuzzing and
stateful testing until it is spent).

Besides "no failures", the run's own record (its NDJSON report) must show that the checks had something to check:
every secured operation succeeded with the token and was refused with 401 without it and with an invalid one
(what ignored_auth probes), and the stateful phase followed the spec's links.
"""

import collections
import json
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import yaml

from exitus.dev.issuer import ALL_SCOPES
from exitus.resources import SPEC_FILE
from tests.conftest import CLIENT_ID, assert_problem

ROOT = Path(__file__).resolve().parents[1]
CONFIG_FILE = ROOT / "tests" / "schemathesis.toml"
# Unset: the budget of tests/schemathesis.toml (10 examples per operation, 40 stateful scenarios), one pass each.
MAX_EXAMPLES = os.environ.get("EXITUS_FUZZ_EXAMPLES")
MAX_TIME = os.environ.get("EXITUS_FUZZ_MAX_TIME")
SEED = os.environ.get("EXITUS_FUZZ_SEED", "1")  # `make fuzz` draws one; the output names it for replays
SPEC = yaml.safe_load(SPEC_FILE.read_text())
METHODS = ("get", "put", "post", "delete", "patch")
OPERATIONS = [
    (method.upper(), path, op)
    for path, item in SPEC["paths"].items()
    for method, op in item.items()
    if method in METHODS
]
SECURED = {f"{method} {path}" for method, path, op in OPERATIONS if op.get("security", SPEC["security"])}
DECLARED_LINKS = sum(len(response.get("links", {})) for *_, op in OPERATIONS for response in op["responses"].values())


def run_schemathesis(url: str, token: str, report_dir: Path) -> str:
    budget = ["--max-examples", MAX_EXAMPLES] if MAX_EXAMPLES else []
    budget += ["--max-time", MAX_TIME] if MAX_TIME else []
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "--config-file",
        str(CONFIG_FILE),
        "run",
        f"{url}/openapi.json",
        "--header",
        f"Authorization: Bearer {token}",
        *budget,
        "--seed",
        SEED,
        "--no-color",
        "--report",
        "ndjson",
        "--report-dir",
        str(report_dir),
    ]
    timeout = int(MAX_TIME or 0) + 1800
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False)
    output = result.stdout + result.stderr
    (report_dir / "schemathesis.log").write_text(output)
    assert result.returncode == 0, output[-8000:]
    return output


def recorded_requests(report_dir: Path) -> dict[str, collections.Counter]:
    """Per operation (`GET /v1/projects`): how often each (sent a token, status) pair was recorded."""
    outcomes: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    (report,) = report_dir.glob("*.ndjson")
    for line in report.read_text().splitlines():
        event = json.loads(line).get("ScenarioFinished")
        recorder = (event or {}).get("recorder") or {}
        for case_id, node in recorder.get("cases", {}).items():
            case, response = node["value"], (recorder["interactions"].get(case_id) or {}).get("response")
            if response:
                sent_token = "Authorization" in (case.get("headers") or {})
                outcomes[f"{case['method']} {case['path']}"][(sent_token, response["status_code"])] += 1
    return outcomes


def sent_headers(report_dir: Path) -> collections.Counter:
    """How often each (header, status class) pair was recorded, for the conditional and idempotency headers."""
    seen: collections.Counter = collections.Counter()
    (report,) = report_dir.glob("*.ndjson")
    for line in report.read_text().splitlines():
        recorder = (json.loads(line).get("ScenarioFinished") or {}).get("recorder") or {}
        for case_id, node in recorder.get("cases", {}).items():
            response = (recorder["interactions"].get(case_id) or {}).get("response")
            for header, value in (node["value"].get("headers") or {}).items():
                if response and header in ("If-None-Match", "If-Match", "Idempotency-Key"):
                    seen[(header, response["status_code"] // 100)] += 1
                if (
                    response
                    and header == "If-Match"
                    and value.startswith('"')
                    and response["status_code"] in (200, 409)
                ):
                    seen[(header, "passed")] += 1  # a tag from a link: the precondition held (409: then the body)
    return seen


def test_schemathesis_finds_no_failures(server, tenant, issuer, tmp_path):
    token = issuer.token(
        scopes=ALL_SCOPES,
        customer=tenant.customer_id,
        client_id=CLIENT_ID,
        subject="fuzzer",
        ttl_seconds=int(MAX_TIME or 0) + 3600,  # valid for the whole run
    )
    output = run_schemathesis(server.url, token, tmp_path)
    assert re.search(r"No issues found in", output), output[-4000:]
    assert re.search(rf"Tested: {len(OPERATIONS)}\b", output), output[-4000:]

    outcomes = recorded_requests(tmp_path)
    for operation in sorted(SECURED):
        statuses = outcomes[operation]
        assert any(token and 200 <= status < 300 for token, status in statuses), (operation, statuses)
        assert statuses[(False, 401)] and statuses[(True, 401)], (operation, statuses)  # no token; invalid token
        assert not any(not token and status < 400 for token, status in statuses), (operation, statuses)

    headers = sent_headers(tmp_path)  # the new headers were fuzzed, and accepted when valid
    for header in ("If-None-Match", "If-Match", "Idempotency-Key"):
        assert headers[(header, 2)] or headers[(header, "passed")], headers
        assert headers[(header, 4)], headers

    links = re.search(r"API Links:\s+(\d+) covered / (\d+) selected / (\d+) total", output)
    assert links, output[-4000:]
    covered, selected, total = map(int, links.groups())
    assert total == selected == DECLARED_LINKS  # every declared link loaded, none guessed (inference is off)
    assert covered > 0


def test_a_405_allows_every_method_of_the_path(http):
    """Found by allow_header_conformance: each operation is its own route, so the router's 405 named one method."""
    for path, item in SPEC["paths"].items():
        declared = {method.upper() for method in item if method in METHODS}
        unsupported = next(method for method in ("PATCH", "DELETE", "PUT", "POST") if method not in declared)
        filled = re.sub(r"\{[^}]+\}", lambda m: "1" if m.group() == "{number}" else str(uuid.uuid4()), path)
        response = http.request(unsupported, filled)
        assert_problem(response, 405)
        assert set(response.headers["allow"].split(", ")) == declared | ({"HEAD"} if "GET" in declared else set())
    # Routes outside the spec keep the router's own answer.
    outside = http.post("/openapi.json")
    assert_problem(outside, 405)
    assert "GET" in outside.headers["allow"]
