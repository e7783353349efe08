-- :name list_issues :many
-- :doc A project's issues, oldest first; `pattern` (ILIKE, may be null) matches subject or content. Reporter and
-- :doc assignee as users; `voted`: whether `user_id` voted for the issue.
-- The page is cut first (the inner select) and only its rows are joined to their users and the caller's votes.
-- Under row-level security the planner cannot use column statistics for ILIKE and guesses it matches almost nothing,
-- so it would filter the whole project and sort it even when half of it matches. coalesce() (a no-op: the columns are
-- not null) makes it guess half, so it walks issues_list_idx in order and stops at the page's end.
select i.id, i.project_id, i.number, i.subject, i.content, i.severity, i.category, i.labels, i.state,
       jsonb_build_object('id', r.id, 'name', r.name, 'email', r.email) as reporter,
       case when a.id is not null then jsonb_build_object('id', a.id, 'name', a.name, 'email', a.email) end
           as assignee,
       i.votes,
       exists (select from issue_votes v
               where v.customer_id = i.customer_id and v.project_id = i.project_id and v.issue_id = i.id
                 and v.user_id = :user_id) as voted,
       i.version, i.created_at, i.updated_at
from (select * from issues
      where customer_id = :customer_id and project_id = :project_id
        and (cast(:pattern as text) is null
             or coalesce(subject ilike cast(:pattern as text) or content ilike cast(:pattern as text), false))
      order by created_at, id
      limit :limit offset :offset) as i
join users r on r.customer_id = i.customer_id and r.id = i.reporter
left join users a on a.customer_id = i.customer_id and a.id = i.assignee
order by i.created_at, i.id

-- :name get_issue :one
-- :doc One issue of a project of the customer, as list_issues shows it.
select i.id, i.project_id, i.number, i.subject, i.content, i.severity, i.category, i.labels, i.state,
       jsonb_build_object('id', r.id, 'name', r.name, 'email', r.email) as reporter,
       case when a.id is not null then jsonb_build_object('id', a.id, 'name', a.name, 'email', a.email) end
           as assignee,
       i.votes,
       exists (select from issue_votes v
               where v.customer_id = i.customer_id and v.project_id = i.project_id and v.issue_id = i.id
                 and v.user_id = :user_id) as voted,
       i.version, i.created_at, i.updated_at
from issues i
join users r on r.customer_id = i.customer_id and r.id = i.reporter
left join users a on a.customer_id = i.customer_id and a.id = i.assignee
where i.customer_id = :customer_id and i.project_id = :project_id and i.id = :id

-- :name get_issue_id_by_number :scalar
-- :doc The id of the issue with this number in a project of the customer.
select id from issues where customer_id = :customer_id and project_id = :project_id and number = :number

-- :name create_issue :one
-- :doc Inserts an issue, numbered by its project's counter (migrations/0006); returns its id. An unknown project or
-- :doc assignee violates issues_project_fkey / issues_assignee_fkey.
insert into issues (customer_id, project_id, subject, content, severity, category, labels, reporter, assignee)
values (:customer_id, :project_id, :subject, :content, :severity, :category, :labels, :reporter, :assignee)
returning id

-- :name update_issue :one
-- :doc Replaces an issue's fields if `version` is current and is one `if_match` lists (null: any), and a changed state
-- :doc is a move the workflow allows (a null state keeps the state); no row means unknown id, stale version or
-- :doc illegal move. `previous_state` is the state before the update (the sub-select sees the row as it was).
update issues
set subject = :subject, content = :content, severity = :severity, category = :category, labels = :labels,
    state = coalesce(cast(:state as text), state), assignee = :assignee, version = version + 1, updated_at = now()
from (select state as previous_state from issues
      where customer_id = :customer_id and project_id = :project_id and id = :id) as old_row
where customer_id = :customer_id and project_id = :project_id and id = :id and version = :version
  and (cast(:state as text) is null or cast(:state as text) = state
       or cast(:state as text) = any(exitus_issue_next_states(state)))
  and (cast(:if_match as integer[]) is null or version = any(cast(:if_match as integer[])))
returning id, state, old_row.previous_state

-- :name update_issue_state :one
-- :doc Moves an issue to `state` if the workflow allows it from the state it is in when the row is locked (of two
-- :doc racing moves, the second is checked against the first's result); no row means unknown id or illegal move.
update issues
set state = :state, version = version + 1, updated_at = now()
where customer_id = :customer_id and project_id = :project_id and id = :id
  and cast(:state as text) = any(exitus_issue_next_states(state))
returning id, state

-- :name list_next_states :scalar
-- :doc The states the workflow allows an issue in `state` to move to (migrations/0006).
select exitus_issue_next_states(cast(:state as text))

-- :name create_vote :scalar
-- :doc Records `user_id`'s vote for an issue and counts it on the issue, in one statement; returns the new count, or
-- :doc nothing when the user had voted already. An unknown issue violates issue_votes_issue_fkey.
with vote as (
    insert into issue_votes (customer_id, project_id, issue_id, user_id)
    values (:customer_id, :project_id, :issue_id, :user_id)
    on conflict do nothing
    returning issue_id
)
update issues set votes = votes + 1
from vote
where issues.customer_id = :customer_id and issues.project_id = :project_id and issues.id = vote.issue_id
returning issues.votes

-- :name delete_vote :scalar
-- :doc Removes `user_id`'s vote for an issue and its count, in one statement; returns the new count, or nothing
-- :doc when there was no such vote.
with withdrawn as (
    delete from issue_votes
    where customer_id = :customer_id and project_id = :project_id and issue_id = :issue_id and user_id = :user_id
    returning issue_id
)
update issues set votes = votes - 1
from withdrawn
where issues.customer_id = :customer_id and issues.project_id = :project_id and issues.id = withdrawn.issue_id
returning issues.votes
