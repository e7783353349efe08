-- Lists that scale (issue 11): indexes that lead with customer_id and fit the list filters and sorts, and a search
-- (`q`) that an index can serve without row-level security ever being lifted for the serving role.
-- depends: 0006.tracker

-- Severity in its order of gravity (low < medium < high < critical), for `sort=severity` and its index; exitus/api/
-- issues.py holds the same ranks for the cursor. A CASE of text equalities (leakproof), not array_position() (not
-- leakproof): inlined into a query under row-level security, only the former lets a cursor's row comparison
-- be an index condition rather than a filter over every row before it.
create function exitus_severity_rank(severity text) returns integer
    language sql immutable parallel safe
    as $$ select case severity when 'low' then 1 when 'medium' then 2 when 'high' then 3 when 'critical' then 4 end $$;

-- One index per sort, each (customer, project, sort key..., id) so a page is an ordered walk that stops at its end
-- (issues_list_idx, from 0001, serves sort=created); and the filters worth an index, before the created order.
create index issues_updated_idx on issues (customer_id, project_id, updated_at, id);
create index issues_severity_idx on issues (customer_id, project_id, exitus_severity_rank(severity), created_at, id);
create index issues_votes_idx on issues (customer_id, project_id, votes, id);  -- sort=votes (0006 keeps the count)
-- sort=number: issues_number_key (0006) is (customer_id, project_id, number)
create index issues_state_idx on issues (customer_id, project_id, state, created_at, id);
create index issues_assignee_list_idx on issues (customer_id, project_id, assignee, created_at, id);
create index issues_reporter_idx on issues (customer_id, project_id, reporter, created_at, id);
drop index issues_assignee_idx;  -- (customer_id, assignee): no query reads across a customer's projects by assignee

-- Search. Under row-level security a qual reaches an index only if its operator is leakproof; ILIKE is not, and only
-- a superuser may declare a function LEAKPROOF (0003.search-plans). So the search runs as a role of its own,
-- exitus_search: NOLOGIN, a member of nothing, holding SELECT on the searched columns of issues only, and under a
-- policy that lets it read every customer's rows, so its quals are not held behind the tenant policy. It owns one
-- thing, the SECURITY DEFINER function below, whose one statement filters by the customer bound to the transaction
-- (and the one the caller names, which must be the same): the serving role can call it, but cannot make it read
-- another customer's rows, and cannot become exitus_search. Tables keep FORCEd row-level security.
do $$
begin
    if not exists (select 1 from pg_roles where rolname = 'exitus_search') then
        create role exitus_search nologin nosuperuser nocreatedb nocreaterole noinherit nobypassrls;
    end if;
exception when duplicate_object or unique_violation then
    null;  -- another database of the cluster created it meanwhile
end
$$;
grant exitus_search to current_user;  -- to hand it the function below (ALTER ... OWNER needs membership); revoked
grant select (customer_id, project_id, id, subject, content, created_at) on issues to exitus_search;
create policy issues_search on issues for select to exitus_search using (true);

create extension if not exists btree_gin;  -- uuid equality in a GIN index, beside the trigrams
-- customer_id and project_id lead, so the index scan intersects the trigrams' postings with the project's: it reads
-- no other customer's (or project's) rows, and its cost does not follow how often they use a term.
create index issues_search_idx on issues
    using gin (customer_id, project_id, subject gin_trgm_ops, content gin_trgm_ops);

-- The ids of the issues of the project whose subject or content matches `pattern` (ILIKE), of the customer bound to
-- the transaction only; null when the term is frequent (more than `cap` matches, or 3 in a sample of the project's
-- 500 newest issues): the caller then walks the project in order and filters, which finds a page of a frequent term
-- soon, while a GIN bitmap would first collect every match. Dynamic SQL for the index search, so it is planned for
-- its pattern. Never a sequential scan: that would read every customer's rows.
create function exitus_search_issues(customer uuid, project uuid, pattern text, cap integer) returns uuid[]
    language plpgsql stable security definer
    set search_path = pg_catalog, public
    set enable_seqscan = off
    as $$
declare
    sampled integer;
    found uuid[];
begin
    select count(*) into sampled  -- stops at the third match: a frequent term is told in a few rows
    from (select from (select i.subject, i.content from public.issues i
                       where i.customer_id = customer and i.customer_id = public.exitus_request_customer()
                         and i.project_id = project
                       order by i.created_at desc limit 500) as newest
          where newest.subject ilike pattern or newest.content ilike pattern
          limit 3) as hits;
    if sampled >= 3 then
        return null;
    end if;
    execute 'select array(select id from public.issues'
            ' where customer_id = $1 and customer_id = public.exitus_request_customer() and project_id = $2'
            '   and (subject ilike $3 or content ilike $3)'
            ' limit $4)'
        into found using customer, project, pattern, cap + 1;
    return case when cardinality(found) > cap then null else found end;
end
$$;
grant create on schema public to exitus_search;  -- ALTER ... OWNER requires it of the new owner; taken back below
alter function exitus_search_issues(uuid, uuid, text, integer) owner to exitus_search;
revoke create on schema public from exitus_search;
-- Policies apply to a role's members too: the owner must not stay one, or FORCEd row-level security would no
-- longer hold it to the bound customer.
revoke exitus_search from current_user;
revoke all on function exitus_search_issues(uuid, uuid, text, integer) from public;
grant execute on function exitus_search_issues(uuid, uuid, text, integer) to exitus_service;

analyze issues;
