"""exitus.app: how responses are written."""

from __future__ import annotations

import datetime
import gc
import json


def test_responses_are_compact_json_with_sorted_keys_and_rfc3339_times(tenant):
    project = tenant.create_project()
    response = tenant.api().get(f"/v1/projects/{project['id']}")
    body = response.json()
    assert response.text == json.dumps(body, separators=(",", ":"), sort_keys=True) + "\n"
    created = datetime.datetime.fromisoformat(body["created_at"])
    assert created.tzinfo is not None and body["created_at"][10] == "T"


def test_the_start_up_heap_is_frozen_out_of_the_collector(server):
    # The session's server has run its lifespan start-up in this process.
    assert gc.get_freeze_count() > 10_000
