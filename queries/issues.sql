-- :name list_issues :many
-- :doc A page of a project's issues: each filter null or holding (see exitus/api/issues.py), in `sort` order
-- :doc (exitus/api/issues.py's SORTS: created, updated, severity, each with `-` for descending, ties by id), after
-- :doc the keyset cursor `after_*` (null: from the start). `ids`, when not null, are the only candidates (the search).
-- Each page is planned for its parameters (a custom plan): the `sort` CASEs fold to the one sort key, so the planner
-- walks that sort's index (migrations/0007) and stops at the page's end; tests/test_query_plans.py holds that, also
-- for the plan a prepared statement settles on. Under row-level security the planner cannot use column statistics
-- for ILIKE and guesses it matches almost nothing, so it would filter the whole project and sort it even when half
-- of it matches; coalesce() (a no-op: the columns are not null) makes it guess half, so it walks in order.
select id, project_id, subject, content, severity, category, labels, state, reporter, assignee,
       version, created_at, updated_at
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
  and (cast(:after_id as uuid) is null or case cast(:sort as text)
       when 'created' then (created_at, id) > (cast(:after_time as timestamptz), cast(:after_id as uuid))
       when '-created' then (created_at, id) < (cast(:after_time as timestamptz), cast(:after_id as uuid))
       when 'updated' then (updated_at, id) > (cast(:after_time as timestamptz), cast(:after_id as uuid))
       when '-updated' then (updated_at, id) < (cast(:after_time as timestamptz), cast(:after_id as uuid))
       when 'severity' then (exitus_severity_rank(severity), created_at, id)
                            > (cast(:after_rank as integer), cast(:after_time as timestamptz), cast(:after_id as uuid))
       when '-severity' then (exitus_severity_rank(severity), created_at, id)
                             < (cast(:after_rank as integer), cast(:after_time as timestamptz), cast(:after_id as uuid))
       end)
order by case cast(:sort as text) when 'severity' then exitus_severity_rank(severity) end,
         case cast(:sort as text) when '-severity' then exitus_severity_rank(severity) end desc,
         case cast(:sort as text) when 'created' then created_at when 'updated' then updated_at
                                  when 'severity' then created_at end,
         case cast(:sort as text) when '-created' then created_at when '-updated' then updated_at
                                  when '-severity' then created_at end desc,
         case when cast(:sort as text) like '-%' then id end desc,
         case when cast(:sort as text) not like '-%' then id end
limit :limit offset :offset

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
-- :doc frequent (more than `cap` matches), through exitus_search_issues (migrations/0007), which an index serves
-- :doc and which reads the bound customer's rows only.
select exitus_search_issues(:customer_id, :project_id, :pattern, :cap)

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
-- :doc Replaces an issue's fields if `version` is current (a null state keeps the state); no row means unknown id or
-- :doc stale version. `previous_state` is the state before the update (the sub-select sees the row as it was).
update issues
set subject = :subject, content = :content, severity = :severity, category = :category, labels = :labels,
    state = coalesce(cast(:state as text), state), assignee = :assignee, version = version + 1, updated_at = now()
from (select state as previous_state from issues
      where customer_id = :customer_id and project_id = :project_id and id = :id) as old_row
where customer_id = :customer_id and project_id = :project_id and id = :id and version = :version
returning id, project_id, subject, content, severity, category, labels, state, reporter, assignee,
          version, created_at, updated_at, old_row.previous_state
