-- :name set_request_customer :scalar
-- :doc Binds the current transaction to a customer (transaction-local), for row-level security and auditing.
select set_config('exitus.customer_id', cast(:customer_id as text), true)

-- :name list_applied_migrations :many
-- :doc The ids of the applied migrations, for readiness checks.
select migration_id from _yoyo_migration
