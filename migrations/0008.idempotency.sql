-- Idempotency keys (issue 12): the first completed response to a POST sent with an `Idempotency-Key`, kept per
-- customer and key until it expires, so a retry is answered with it instead of writing again (exitus/idempotency.py).
-- Written in the same transaction as the write it answers; requests that fail store nothing.
-- depends: 0007.list-indexes

create table idempotency_keys (
    customer_id uuid not null,
    key         text not null check (char_length(key) between 1 and 255),
    fingerprint text not null,  -- sha256 of the caller, method, path and body (exitus/idempotency.py)
    status      smallint not null check (status between 200 and 299),
    headers     jsonb not null,  -- the response headers that matter to a retry (Location, ETag)
    body        jsonb,
    created_at  timestamptz not null default now(),
    expires_at  timestamptz not null,
    primary key (customer_id, key)
);
-- An expired key is treated as absent and overwritten by the next request with it; the opportunistic clean-up of a
-- customer's expired keys (queries/idempotency.sql) and `exitus prune-idempotency-keys` find them by expiry.
create index idempotency_keys_expiry_idx on idempotency_keys (customer_id, expires_at);

alter table idempotency_keys enable row level security;
alter table idempotency_keys force row level security;
create policy idempotency_keys_tenant on idempotency_keys using (customer_id = exitus_request_customer());

-- No audit trigger: a stored response is not tracked state, and a replay changes nothing. DELETE: expired keys only
-- (the queries say so; row-level security keeps it to the bound customer).
grant select, insert, update, delete on idempotency_keys to exitus_service;
