-- :name list_comments :many
-- :doc An issue's comments, oldest first; `pattern` (ILIKE, may be null) matches the content.
select id, issue_id, content, author, version, created_at, updated_at
from comments
where customer_id = :customer_id and project_id = :project_id and issue_id = :issue_id
  and (cast(:pattern as text) is null or coalesce(content ilike cast(:pattern as text), false))  -- see list_issues
order by created_at, id
limit :limit offset :offset

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
-- :doc Replaces a comment's content if `version` is current and is one `if_match` lists (null: any); no row means
-- :doc unknown id or stale version.
update comments
set content = :content, version = version + 1, updated_at = now()
where customer_id = :customer_id and project_id = :project_id and issue_id = :issue_id and id = :id
  and version = :version
  and (cast(:if_match as integer[]) is null or version = any(cast(:if_match as integer[])))
returning id, issue_id, content, author, version, created_at, updated_at
