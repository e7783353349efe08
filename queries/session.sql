-- :name set_request_customer :scalar
-- :doc Binds the current transaction to a customer (transaction-local), for row-level security (bench/reference.py).
select set_config('exitus.customer_id', cast(:customer_id as text), true)

-- :name set_request_context :one
-- :doc Binds the current transaction (transaction-local) to the request: its customer, for row-level security, and
-- :doc what the audit trigger records with each change (migrations/0005.audit.sql). An empty value means none.
select set_config('exitus.customer_id', coalesce(cast(:customer_id as text), ''), true),
       set_config('exitus.actor_sub', coalesce(cast(:actor_sub as text), ''), true),
       set_config('exitus.request_id', coalesce(cast(:request_id as text), ''), true),
       set_config('exitus.trace_id', coalesce(cast(:trace_id as text), ''), true),
       set_config('exitus.client_ip', coalesce(cast(:client_ip as text), ''), true),
       set_config('exitus.user_agent', coalesce(cast(:user_agent as text), ''), true)

-- :name list_applied_migrations :many
-- :doc The ids of the applied migrations, for readiness checks.
select migration_id from _yoyo_migration
