-- :name list_issues :many
-- :doc A page of a project's issues (reporter and assignee as users' columns `reporter_*`, `assignee_*`: id, name, email;
-- :doc `voted`: whether `user_id` voted): each filter
-- :doc null or holding (see exitus/api/issues.py), in `sort` order (exitus/api/issues.py's SORTS: created, updated,
-- :doc severity, number, votes, each with `-` for descending, ties by id), after the keyset cursor `after_*` (null: from the start). `ids`, when not null, are the only candidates (the search).
-- Each page is planned for its parameters (a custom plan: exitus/db.py's CUSTOM_PLANNED, never a prepared statement's
-- generic plan): the `sort` CASEs fold to the one sort key, so the planner walks that sort's index (migrations/0007)
-- and stops at the page's end; tests/test_query_plans.py holds that, also after deep pages. Under row-level security the planner cannot use column statistics
-- for ILIKE and guesses it matches almost nothing, so it would filter the whole project and sort it even when half
-- of it matches; coalesce() (a no-op: the columns are not null) makes it guess half, so it walks in order.
-- The page is cut first (the inner select) and only its rows are joined to their users and the caller's votes. The
-- users come as plain columns, not as JSON objects: decoding two JSON values per row cost more than the query's join
-- (bench/README.md, "Embedding users"); exitus/api/issues.py makes them objects.
select i.id, i.project_id, i.number, i.subject, i.content, i.severity, i.category, i.labels, i.state,
       r.id as reporter_id, r.name as reporter_name, r.email as reporter_email,
       a.id as assignee_id, a.name as assignee_name, a.email as assignee_email,
       i.votes,
       exists (select from issue_votes v
               where v.customer_id = i.customer_id and v.project_id = i.project_id and v.issue_id = i.id
                 and v.user_id = :user_id) as voted,
       i.version, i.created_at, i.updated_at
from (select * from issues
      where customer_id = :customer_id and project_id = :project_id
        and (cast(:states as text[]) is null or state = any(cast(:states as text[])))
        and (cast(:severities as text[]) is null or severity = any(cast(:severities as text[])))
        and (cast(:categories as text[]) is null or category = any(cast(:categories as text[])))
        and (cast(:labels as text[]) is null or labels @> cast(:labels as text[]))
        and (cast(:assignee as uuid) is null or assignee = cast(:assignee as uuid))
        and (not cast(:unassigned as boolean) or assignee is null)
        and (cast(:reporter as uuid) is null or reporter = cast(:reporter as uuid))
        and (cast(:created_after as timestamptz) is null or created_at > cast(:created_after as timestamptz))
        and (cast(:created_before as timestamptz) is null or created_at < cast(:created_before as timestamptz))
        and (cast(:updated_after as timestamptz) is null or updated_at > cast(:updated_after as timestamptz))
        and (cast(:updated_before as timestamptz) is null or updated_at < cast(:updated_before as timestamptz))
        and (cast(:ids as uuid[]) is null or id = any(cast(:ids as uuid[])))
        and (cast(:pattern as text) is null
             or coalesce(subject ilike cast(:pattern as text) or content ilike cast(:pattern as text), false))
        and (cast(:after_id as uuid) is null or case cast(:sort as text)
             when 'created' then (created_at, id) > (cast(:after_time as timestamptz), cast(:after_id as uuid))
             when '-created' then (created_at, id) < (cast(:after_time as timestamptz), cast(:after_id as uuid))
             when 'updated' then (updated_at, id) > (cast(:after_time as timestamptz), cast(:after_id as uuid))
             when '-updated' then (updated_at, id) < (cast(:after_time as timestamptz), cast(:after_id as uuid))
             when 'severity' then (exitus_severity_rank(severity), created_at, id)
                                  > (cast(:after_rank as integer), cast(:after_time as timestamptz), cast(:after_id as uuid))
             when '-severity' then (exitus_severity_rank(severity), created_at, id)
                                   < (cast(:after_rank as integer), cast(:after_time as timestamptz), cast(:after_id as uuid))
             when 'number' then number > cast(:after_rank as integer)
             when '-number' then number < cast(:after_rank as integer)
             when 'votes' then (votes, id) > (cast(:after_rank as integer), cast(:after_id as uuid))
             when '-votes' then (votes, id) < (cast(:after_rank as integer), cast(:after_id as uuid))
             end)
      order by case cast(:sort as text) when 'severity' then exitus_severity_rank(severity)
                                       when 'number' then number when 'votes' then votes end,
               case cast(:sort as text) when '-severity' then exitus_severity_rank(severity)
                                        when '-number' then number when '-votes' then votes end desc,
               case cast(:sort as text) when 'created' then created_at when 'updated' then updated_at
                                        when 'severity' then created_at end,
               case cast(:sort as text) when '-created' then created_at when '-updated' then updated_at
                                        when '-severity' then created_at end desc,
               case when cast(:sort as text) like '-%' then id end desc,
               case when cast(:sort as text) not like '-%' then id end
      limit :limit offset :offset) as i
join users r on r.customer_id = i.customer_id and r.id = i.reporter
left join users a on a.customer_id = i.customer_id and a.id = i.assignee
order by case cast(:sort as text) when 'severity' then exitus_severity_rank(i.severity)
                                       when 'number' then i.number when 'votes' then i.votes end,
         case cast(:sort as text) when '-severity' then exitus_severity_rank(i.severity)
                                        when '-number' then i.number when '-votes' then i.votes end desc,
         case cast(:sort as text) when 'created' then i.created_at when 'updated' then i.updated_at
                                  when 'severity' then i.created_at end,
         case cast(:sort as text) when '-created' then i.created_at when '-updated' then i.updated_at
                                  when '-severity' then i.created_at end desc,
         case when cast(:sort as text) like '-%' then i.id end desc,
         case when cast(:sort as text) not like '-%' then i.id end

-- :name count_issues :scalar
-- :doc How many of a project's issues pass the filters of list_issues (the same parameters, no cursor or page).
select count(*)
from issues
where customer_id = :customer_id and project_id = :project_id
  and (cast(:states as text[]) is null or state = any(cast(:states as text[])))
  and (cast(:severities as text[]) is null or severity = any(cast(:severities as text[])))
  and (cast(:categories as text[]) is null or category = any(cast(:categories as text[])))
  and (cast(:labels as text[]) is null or labels @> cast(:labels as text[]))
  and (cast(:assignee as uuid) is null or assignee = cast(:assignee as uuid))
  and (not cast(:unassigned as boolean) or assignee is null)
  and (cast(:reporter as uuid) is null or reporter = cast(:reporter as uuid))
  and (cast(:created_after as timestamptz) is null or created_at > cast(:created_after as timestamptz))
  and (cast(:created_before as timestamptz) is null or created_at < cast(:created_before as timestamptz))
  and (cast(:updated_after as timestamptz) is null or updated_at > cast(:updated_after as timestamptz))
  and (cast(:updated_before as timestamptz) is null or updated_at < cast(:updated_before as timestamptz))
  and (cast(:ids as uuid[]) is null or id = any(cast(:ids as uuid[])))
  and (cast(:pattern as text) is null
       or coalesce(subject ilike cast(:pattern as text) or content ilike cast(:pattern as text), false))

-- :name search_issues :scalar
-- :doc The ids of the project's issues whose subject or content matches `pattern` (ILIKE), or null when the term is
-- :doc frequent (more than `cap` matches), through exitus_search_issues (migrations/0007, 0010), which an index serves
-- :doc and which reads the bound customer's rows only.
select exitus_search_issues(:customer_id, :project_id, :pattern, :cap)

-- :name get_issue :one
-- :doc One issue of a project of the customer, in list_issues' columns.
select i.id, i.project_id, i.number, i.subject, i.content, i.severity, i.category, i.labels, i.state,
       r.id as reporter_id, r.name as reporter_name, r.email as reporter_email,
       a.id as assignee_id, a.name as assignee_name, a.email as assignee_email,
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
-- :doc racing moves, the second is checked against the first's result) and `version` is one `if_match` lists (null:
-- :doc any); no row means unknown id, illegal move or a version If-Match does not name.
update issues
set state = :state, version = version + 1, updated_at = now()
where customer_id = :customer_id and project_id = :project_id and id = :id
  and cast(:state as text) = any(exitus_issue_next_states(state))
  and (cast(:if_match as integer[]) is null or version = any(cast(:if_match as integer[])))
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
