-- :name get_idempotency_key :one
-- :doc Claims the customer's key for this transaction without waiting (a transaction-level advisory lock on the
-- :doc customer and key: `claimed` is false while another transaction holds it, i.e. the first request with the
-- :doc key is still in flight), and reads the key's stored response if it has one that has not expired. The lock's
-- :doc 64-bit hash may, very rarely, make one key's request answer 409 while another key's is in flight; the row
-- :doc itself is found by customer and key.
select pg_try_advisory_xact_lock(hashtextextended(cast(:customer_id as text) || '/' || cast(:key as text), 0))
           as claimed,
       k.fingerprint, k.status, k.headers, k.body
from (select 1) as one
left join idempotency_keys k on k.customer_id = :customer_id and k.key = :key and k.expires_at > now()

-- :name upsert_idempotency_key :one
-- :doc Stores the first completed response to the customer's key, replacing an expired one; no row when a live one
-- :doc is there (another request with the key completed since the claim). Removes, in passing, up to `prune` of
-- :doc the customer's other expired keys, skipping those another transaction holds.
with pruned as (
    delete from idempotency_keys
    where customer_id = :customer_id
      and key in (select key from idempotency_keys
                  where customer_id = :customer_id and expires_at <= now() and key <> :key
                  order by expires_at
                  limit :prune
                  for update skip locked)
)
insert into idempotency_keys as k (customer_id, key, fingerprint, status, headers, body, expires_at)
values (:customer_id, :key, :fingerprint, :status, cast(:headers as jsonb), cast(:body as jsonb),
        now() + make_interval(secs => :ttl_seconds))
on conflict (customer_id, key) do update
    set fingerprint = excluded.fingerprint, status = excluded.status, headers = excluded.headers,
        body = excluded.body, created_at = excluded.created_at, expires_at = excluded.expires_at
    where k.expires_at <= now()
returning k.key

-- :name delete_expired_idempotency_keys :scalar
-- :doc Removes up to `limit` of the customer's expired keys, skipping those another transaction holds; how many.
with gone as (
    delete from idempotency_keys
    where customer_id = :customer_id
      and key in (select key from idempotency_keys
                  where customer_id = :customer_id and expires_at <= now()
                  order by expires_at
                  limit :limit
                  for update skip locked)
    returning 1
)
select count(*) from gone

-- :name list_customer_ids :many
-- :doc Customer ids in id order after `after` (null: from the first), for tools that visit every customer's rows
-- :doc bound to that customer (`exitus prune-idempotency-keys`).
select id from customers
where cast(:after as uuid) is null or id > cast(:after as uuid)
order by id
limit :limit
