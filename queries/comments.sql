-- :name list_comments :many
-- :doc An issue's comments, oldest first, after the keyset cursor `after_*`
-- :doc (null: from the start); `pattern` (ILIKE, may be null) matches the content.
select id, issue_id, content, author, version, created_at, updated_at
from comments
where customer_id = :customer_id and project_id = :project_id and issue_id = :issue_id
  and (cast(:pattern as text) is null or coalesce(content ilike cast(:pattern as text), false))  -- see list_issues
  and (cast(:created_after as timestamptz) is null or created_at > cast(:created_after as timestamptz))
  and (cast(:created_before as timestamptz) is null or created_at < cast(:created_before as timestamptz))
  and (cast(:after_id as uuid) is null
       or (created_at, id) > (cast(:after_time as timestamptz), cast(:after_id as uuid)))  -- the keyset cursor
order by created_at, id
limit :limit offset :offset

-- :name count_comments :scalar
-- :doc How many of an issue's comments pass the filters of list_comments.
select count(*)
from comments
where customer_id = :customer_id and project_id = :project_id and issue_id = :issue_id
  and (cast(:pattern as text) is null or coalesce(content ilike cast(:pattern as text), false))  -- see list_issues
  and (cast(:created_after as timestamptz) is null or created_at > cast(:created_after as timestamptz))
  and (cast(:created_before as timestamptz) is null or created_at < cast(:created_before as timestamptz))

-- :name get_comment :one
-- :doc One comment of an issue of the customer.
select id, issue_id, content, author, version, created_at, updated_at
from comments
where customer_id = :customer_id and project_id = :project_id and issue_id = :issue_id and id = :id

-- :name create_comment :one
-- :doc Inserts a comment; an unknown issue violates comments_issue_fkey.
insert into comments (customer_id, project_id, issue_id, content, author)
values (:customer_id, :project_id, :issue_id, :content, :author)
returning id, issue_id, content, author, version, created_at, updated_at

-- :name update_comment :one
-- :doc Replaces a comment's content if `version` is current; no row means unknown id or stale version.
update comments
set content = :content, version = version + 1, updated_at = now()
where customer_id = :customer_id and project_id = :project_id and issue_id = :issue_id and id = :id
  and version = :version
returning id, issue_id, content, author, version, created_at, updated_at
