-- :name list_audit_events :many
-- :doc The customer's audit events, newest first, before sequence `before` (the cursor; null: from the newest),
-- :doc each filter null or matching exactly; `since` inclusive, `until` exclusive.
select customer_id, sequence, id, occurred_at, actor_sub, actor_user_id, action, resource_type, resource_id,
       project_id, issue_id, changes, request_id, trace_id, client_ip, user_agent, prev_hash, hash
from audit_events
where customer_id = :customer_id
  and (cast(:before as bigint) is null or sequence < cast(:before as bigint))
  and (cast(:resource_type as text) is null or resource_type = cast(:resource_type as text))
  and (cast(:resource_id as uuid) is null or resource_id = cast(:resource_id as uuid))
  and (cast(:actor as text) is null or actor_sub = cast(:actor as text))
  and (cast(:action as text) is null or action = cast(:action as text))
  and (cast(:since as timestamptz) is null or occurred_at >= cast(:since as timestamptz))
  and (cast(:until as timestamptz) is null or occurred_at < cast(:until as timestamptz))
order by sequence desc
limit :limit

-- :name list_issue_history :many
-- :doc An issue's events and its comments' events, oldest first, after sequence `after` (the cursor; 0: from the start).
select customer_id, sequence, id, occurred_at, actor_sub, actor_user_id, action, resource_type, resource_id,
       project_id, issue_id, changes, request_id, trace_id, client_ip, user_agent, prev_hash, hash
from audit_events
where customer_id = :customer_id and project_id = :project_id and sequence > :after
  and ((resource_type = 'issue' and resource_id = :issue_id) or issue_id = :issue_id)
order by sequence
limit :limit

-- :name list_audit_chain :many
-- :doc The customer's audit events in chain order, after sequence `after`, for verification.
select customer_id, sequence, id, occurred_at, actor_sub, actor_user_id, action, resource_type, resource_id,
       project_id, issue_id, changes, request_id, trace_id, client_ip, user_agent, prev_hash, hash
from audit_events
where customer_id = :customer_id and sequence > :after
order by sequence
limit :limit

-- :name get_audit_head :one
-- :doc The head of the bound customer's chain (its last sequence and hash), or nothing before its first event.
select last_sequence, last_hash from exitus_audit_head() where last_sequence is not null

-- :name set_audited_customer :scalar
-- :doc Rebinds the transaction to another customer, for an administrator reading that customer's audit trail.
select set_config('exitus.customer_id', cast(:customer_id as text), true)
