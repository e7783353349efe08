-- :name list_customers :many
-- :doc Customers, oldest first, after the keyset cursor `after_*`
-- :doc (null: from the start); `only_id` narrows to one customer (a tenant reading itself), `pattern` is an ILIKE pattern.
select id, name, description, labels, version, created_at, updated_at
from customers
where (cast(:only_id as uuid) is null or id = cast(:only_id as uuid))
  and (cast(:pattern as text) is null or name ilike cast(:pattern as text))
  and (cast(:created_after as timestamptz) is null or created_at > cast(:created_after as timestamptz))
  and (cast(:created_before as timestamptz) is null or created_at < cast(:created_before as timestamptz))
  and (cast(:after_id as uuid) is null
       or (created_at, id) > (cast(:after_time as timestamptz), cast(:after_id as uuid)))  -- the keyset cursor
order by created_at, id
limit :limit offset :offset

-- :name count_customers :scalar
-- :doc How many customers pass the filters of list_customers (`only_id`: a tenant counting itself).
select count(*)
from customers
where (cast(:only_id as uuid) is null or id = cast(:only_id as uuid))
  and (cast(:pattern as text) is null or name ilike cast(:pattern as text))
  and (cast(:created_after as timestamptz) is null or created_at > cast(:created_after as timestamptz))
  and (cast(:created_before as timestamptz) is null or created_at < cast(:created_before as timestamptz))

-- :name get_customer :one
-- :doc One customer by id.
select id, name, description, labels, version, created_at, updated_at
from customers
where id = :id

-- :name create_customer :one
-- :doc Inserts a customer; a case-insensitive duplicate name violates customers_name_key.
insert into customers (name, description, labels)
values (:name, :description, :labels)
returning id, name, description, labels, version, created_at, updated_at

-- :name update_customer :one
-- :doc Replaces a customer's fields if `version` is current and is one `if_match` lists (null: any); no row means
-- :doc unknown id or stale version.
update customers
set name = :name, description = :description, labels = :labels,
    version = version + 1, updated_at = now()
where id = :id and version = :version
  and (cast(:if_match as integer[]) is null or version = any(cast(:if_match as integer[])))
returning id, name, description, labels, version, created_at, updated_at
