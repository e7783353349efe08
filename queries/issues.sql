-- :name list_issues :many
-- :doc A project's issues, oldest first; `pattern` (ILIKE, may be null) matches subject or content.
-- Under row-level security the planner cannot use column statistics for ILIKE and guesses it matches almost nothing,
-- so it would filter the whole project and sort it even when half of it matches. coalesce() (a no-op: the columns are
-- not null) makes it guess half, so it walks issues_list_idx in order and stops at the page's end.
select id, project_id, subject, content, severity, category, labels, state, reporter, assignee,
       version, created_at, updated_at
from issues
where customer_id = :customer_id and project_id = :project_id
  and (cast(:pattern as text) is null
       or coalesce(subject ilike cast(:pattern as text) or content ilike cast(:pattern as text), false))
order by created_at, id
limit :limit offset :offset

-- :name get_issue :one
-- :doc One issue of a project of the customer.
select id, project_id, subject, content, severity, category, labels, state, reporter, assignee,
       version, created_at, updated_at
from issues
where customer_id = :customer_id and project_id = :project_id and id = :id

-- :name create_issue :one
-- :doc Inserts an issue; an unknown project or assignee violates issues_project_fkey / issues_assignee_fkey.
insert into issues (customer_id, project_id, subject, content, severity, category, labels, reporter, assignee)
values (:customer_id, :project_id, :subject, :content, :severity, :category, :labels, :reporter, :assignee)
returning id, project_id, subject, content, severity, category, labels, state, reporter, assignee,
          version, created_at, updated_at

-- :name update_issue :one
-- :doc Replaces an issue's fields if `version` is current and is one `if_match` lists (null: any; a null state keeps
-- :doc the state); no row means unknown id or stale version. `previous_state` is the state before the update (the
-- :doc sub-select sees the row as it was).
update issues
set subject = :subject, content = :content, severity = :severity, category = :category, labels = :labels,
    state = coalesce(cast(:state as text), state), assignee = :assignee, version = version + 1, updated_at = now()
from (select state as previous_state from issues
      where customer_id = :customer_id and project_id = :project_id and id = :id) as old_row
where customer_id = :customer_id and project_id = :project_id and id = :id and version = :version
  and (cast(:if_match as integer[]) is null or version = any(cast(:if_match as integer[])))
returning id, project_id, subject, content, severity, category, labels, state, reporter, assignee,
          version, created_at, updated_at, old_row.previous_state
