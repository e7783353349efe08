-- Reverts 0008.idempotency.sql.
revoke all on idempotency_keys from exitus_service;
drop table idempotency_keys;
