-- :name list_projects :many
-- :doc The customer's projects, oldest first, after the keyset cursor `after_*`
-- :doc (null: from the start); `pattern` (ILIKE, may be null) filters by name.
select id, name, description, labels, version, created_at, updated_at
from projects
where customer_id = :customer_id
  and (cast(:pattern as text) is null or coalesce(name ilike cast(:pattern as text), false))  -- see list_issues
  and (cast(:created_after as timestamptz) is null or created_at > cast(:created_after as timestamptz))
  and (cast(:created_before as timestamptz) is null or created_at < cast(:created_before as timestamptz))
  and (cast(:after_id as uuid) is null
       or (created_at, id) > (cast(:after_time as timestamptz), cast(:after_id as uuid)))  -- the keyset cursor
order by created_at, id
limit :limit offset :offset

-- :name count_projects :scalar
-- :doc How many of the customer's projects pass the filters of list_projects.
select count(*)
from projects
where customer_id = :customer_id
  and (cast(:pattern as text) is null or coalesce(name ilike cast(:pattern as text), false))  -- see list_issues
  and (cast(:created_after as timestamptz) is null or created_at > cast(:created_after as timestamptz))
  and (cast(:created_before as timestamptz) is null or created_at < cast(:created_before as timestamptz))

-- :name get_project :one
-- :doc One project of the customer.
select id, name, description, labels, version, created_at, updated_at
from projects
where customer_id = :customer_id and id = :id

-- :name create_project :one
-- :doc Inserts a project; a case-insensitive duplicate name within the customer violates projects_name_key.
insert into projects (customer_id, name, description, labels)
values (:customer_id, :name, :description, :labels)
returning id, name, description, labels, version, created_at, updated_at

-- :name update_project :one
-- :doc Replaces a project's fields if `version` is current and is one `if_match` lists (null: any); no row means
-- :doc unknown id or stale version.
update projects
set name = :name, description = :description, labels = :labels,
    version = version + 1, updated_at = now()
where customer_id = :customer_id and id = :id and version = :version
  and (cast(:if_match as integer[]) is null or version = any(cast(:if_match as integer[])))
returning id, name, description, labels, version, created_at, updated_at
