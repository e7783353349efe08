-- :name list_comments :many
-- :doc An issue's comments, oldest first, with their authors, after the keyset cursor `after_*` (null: from the
-- :doc start); `pattern` (ILIKE, may be null) matches the content.
-- The page is cut first (the inner select) and only its rows are joined to their authors.
select c.id, c.issue_id, c.content, jsonb_build_object('id', u.id, 'name', u.name, 'email', u.email) as author,
       c.version, c.created_at, c.updated_at
from (select * from comments
      where customer_id = :customer_id and project_id = :project_id and issue_id = :issue_id
        and (cast(:pattern as text) is null or coalesce(content ilike cast(:pattern as text), false))  -- see list_issues
        and (cast(:created_after as timestamptz) is null or created_at > cast(:created_after as timestamptz))
        and (cast(:created_before as timestamptz) is null or created_at < cast(:created_before as timestamptz))
        and (cast(:after_id as uuid) is null
             or (created_at, id) > (cast(:after_time as timestamptz), cast(:after_id as uuid)))  -- the keyset cursor
      order by created_at, id
      limit :limit offset :offset) as c
join users u on u.customer_id = c.customer_id and u.id = c.author
order by c.created_at, c.id

-- :name count_comments :scalar
-- :doc How many of an issue's comments pass the filters of list_comments.
select count(*)
from comments
where customer_id = :customer_id and project_id = :project_id and issue_id = :issue_id
  and (cast(:pattern as text) is null or coalesce(content ilike cast(:pattern as text), false))  -- see list_issues
  and (cast(:created_after as timestamptz) is null or created_at > cast(:created_after as timestamptz))
  and (cast(:created_before as timestamptz) is null or created_at < cast(:created_before as timestamptz))

-- :name get_comment :one
-- :doc One comment of an issue of the customer, with its author.
select c.id, c.issue_id, c.content, jsonb_build_object('id', u.id, 'name', u.name, 'email', u.email) as author,
       c.version, c.created_at, c.updated_at
from comments c
join users u on u.customer_id = c.customer_id and u.id = c.author
where c.customer_id = :customer_id and c.project_id = :project_id and c.issue_id = :issue_id and c.id = :id

-- :name create_comment :one
-- :doc Inserts a comment; returns its id. An unknown issue violates comments_issue_fkey.
insert into comments (customer_id, project_id, issue_id, content, author)
values (:customer_id, :project_id, :issue_id, :content, :author)
returning id

-- :name update_comment :one
-- :doc Replaces a comment's content if `version` is current and is one `if_match` lists (null: any); returns its id;
-- :doc no row means unknown id or stale version.
update comments
set content = :content, version = version + 1, updated_at = now()
where customer_id = :customer_id and project_id = :project_id and issue_id = :issue_id and id = :id
  and version = :version
  and (cast(:if_match as integer[]) is null or version = any(cast(:if_match as integer[])))
returning id
