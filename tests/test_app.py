"""exitus.app: how responses are written."""

from __future__ import annotations

import datetime
import json


def test_responses_are_compact_json_with_sorted_keys_and_rfc3339_times(tenant):
    project = tenant.create_project()
    response = tenant.api().get(f"/v1/projects/{project['id']}")
    body = response.json()
    assert response.text == json.dumps(body, separators=(",", ":"), sort_keys=True) + "\n"
    created = datetime.datetime.fromisoformat(body["created_at"])
    assert created.tzinfo is not None and body["created_at"][10] == "T"
