-- :name list_users :many
-- :doc The customer's users, oldest first, after the keyset cursor `after_*`
-- :doc (null: from the start); `pattern` (ILIKE, may be null) matches name, email or subject.
select id, sub, email, name, version, created_at, updated_at
from users
where customer_id = :customer_id
  and (cast(:pattern as text) is null  -- coalesce: see list_issues
       or coalesce(name ilike cast(:pattern as text) or email ilike cast(:pattern as text)
                   or sub ilike cast(:pattern as text), false))
  and (cast(:created_after as timestamptz) is null or created_at > cast(:created_after as timestamptz))
  and (cast(:created_before as timestamptz) is null or created_at < cast(:created_before as timestamptz))
  and (cast(:after_id as uuid) is null
       or (created_at, id) > (cast(:after_time as timestamptz), cast(:after_id as uuid)))  -- the keyset cursor
order by created_at, id
limit :limit offset :offset

-- :name count_users :scalar
-- :doc How many of the customer's users pass the filters of list_users.
select count(*)
from users
where customer_id = :customer_id
  and (cast(:pattern as text) is null  -- coalesce: see list_issues
       or coalesce(name ilike cast(:pattern as text) or email ilike cast(:pattern as text)
                   or sub ilike cast(:pattern as text), false))
  and (cast(:created_after as timestamptz) is null or created_at > cast(:created_after as timestamptz))
  and (cast(:created_before as timestamptz) is null or created_at < cast(:created_before as timestamptz))

-- :name get_user :one
-- :doc One user of the customer.
select id, sub, email, name, version, created_at, updated_at
from users
where customer_id = :customer_id and id = :id

-- :name upsert_user :scalar
-- :doc Records the caller as a user of its customer, refreshing email/name when they changed; returns the user's
-- :doc id, or nothing when the customer does not exist. An unchanged caller (the common case) costs no write and
-- :doc takes no lock, so one user's concurrent requests do not queue behind each other's transactions. The upsert
-- :doc always returns its row: when two first requests of a new user race, the second one waits for the first
-- :doc to commit and updates nothing (version unchanged), instead of returning no row (read as "no customer").
with unchanged as (
    select id from users
    where customer_id = :customer_id and sub = :sub
      and email is not distinct from cast(:email as text) and name is not distinct from cast(:name as text)
), upserted as (
    insert into users (customer_id, sub, email, name)
    select c.id, :sub, :email, :name from customers c
    where c.id = :customer_id and not exists (select 1 from unchanged)
    on conflict (customer_id, sub) do update
        set email = excluded.email, name = excluded.name,
            version = users.version + case when (users.email, users.name) is distinct from
                                                (excluded.email, excluded.name) then 1 else 0 end,
            updated_at = case when (users.email, users.name) is distinct from (excluded.email, excluded.name)
                              then now() else users.updated_at end
    returning id
)
select id from unchanged
union all
select id from upserted
limit 1
