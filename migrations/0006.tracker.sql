-- The issue tracker's model: per-project issue numbers, a workflow of four states, and votes (openapi/exitus.yaml,
-- "Issue workflow").
-- depends: 0005.audit

-- Numbers: each project counts its issues. An issue inserted without a number takes the next one from its
-- project's counter (the trigger below, in the inserting statement). The counter's row lock queues one project's
-- creators until their transactions end, so numbers are gap-free (a rolled-back create gives its number back) and
-- never repeat; issues_number_key holds the rest (a bulk load that numbers its rows itself: bench/seed.py).
alter table projects add column last_issue_number integer not null default 0 check (last_issue_number >= 0);
alter table issues add column number integer check (number >= 1);

-- Runs as the caller: row-level security hides other customers' projects, which are then no project at all.
create function exitus_issue_number() returns trigger
    language plpgsql
    as $$
begin
    update projects set last_issue_number = last_issue_number + 1
    where customer_id = new.customer_id and id = new.project_id
    returning last_issue_number into new.number;
    if not found then  -- what the foreign key would say, before the NOT NULL of `number` says less
        raise exception 'project % of customer % not found', new.project_id, new.customer_id
            using errcode = 'foreign_key_violation', constraint = 'issues_project_fkey';
    end if;
    return new;
end
$$;
create trigger issues_number before insert on issues
    for each row when (new.number is null) execute function exitus_issue_number();

-- Votes: who voted (one row per user and issue) and a counter kept beside the issue by the same statement that adds
-- or removes the row (queries/issues.sql), so lists can sort by votes with an index instead of counting.
alter table issues add column votes integer not null default 0 check (votes >= 0);

-- Numbering the issues that exist, oldest first. This is no change by anyone: no audit events (the triggers are off
-- for this transaction only), and row-level security steps aside for the owner meanwhile (it is FORCEd, and the
-- migration binds no customer).
alter table issues disable trigger issues_audit;
alter table projects disable trigger projects_audit;
alter table issues no force row level security;
alter table projects no force row level security;
update issues set number = numbered.number
from (select customer_id, project_id, id,
             row_number() over (partition by customer_id, project_id order by created_at, id) as number
      from issues) as numbered
where issues.customer_id = numbered.customer_id and issues.project_id = numbered.project_id
  and issues.id = numbered.id;
update projects set last_issue_number = counted.issues
from (select customer_id, project_id, count(*) as issues from issues group by customer_id, project_id) as counted
where projects.customer_id = counted.customer_id and projects.id = counted.project_id;
alter table issues force row level security;
alter table projects force row level security;
alter table issues enable trigger issues_audit;
alter table projects enable trigger projects_audit;

alter table issues alter column number set not null;
alter table issues add constraint issues_number_key unique (customer_id, project_id, number);

-- The workflow. Existing states (open, closed) stay valid.
alter table issues drop constraint issues_state_check;
alter table issues add constraint issues_state_check check (state in ('open', 'in_progress', 'resolved', 'closed'));

-- The states an issue in `state` may move to: the one statement of the workflow. Queries name it in their WHERE
-- (a move checked against the row it updates, so of two racing moves the second sees the first's state), and the
-- trigger below holds every other write to it.
create function exitus_issue_next_states(state text) returns text[]
    language sql immutable parallel safe
    as $$
select case state
    when 'open' then array['in_progress', 'closed']
    when 'in_progress' then array['resolved', 'open']
    when 'resolved' then array['closed', 'open']
    when 'closed' then array['open']
    else array[]::text[]
end
$$;

create function exitus_issue_state_guard() returns trigger
    language plpgsql
    as $$
begin
    if not new.state = any(exitus_issue_next_states(old.state)) then
        raise exception 'an issue cannot move from % to %', old.state, new.state
            using errcode = 'check_violation', constraint = 'issues_state_transition',
                  detail = array_to_string(exitus_issue_next_states(old.state), ',');
    end if;
    return new;
end
$$;
create trigger issues_state_transition before update of state on issues
    for each row when (old.state is distinct from new.state) execute function exitus_issue_state_guard();

create table issue_votes (
    customer_id uuid not null,
    project_id  uuid not null,
    issue_id    uuid not null,
    user_id     uuid not null,
    created_at  timestamptz not null default now(),
    primary key (customer_id, project_id, issue_id, user_id),
    constraint issue_votes_issue_fkey foreign key (customer_id, project_id, issue_id)
        references issues (customer_id, project_id, id),
    constraint issue_votes_user_fkey foreign key (customer_id, user_id) references users (customer_id, id)
);
alter table issue_votes enable row level security;
alter table issue_votes force row level security;
create policy issue_votes_tenant on issue_votes using (customer_id = exitus_request_customer());

-- Auditing (0005): counters the database keeps are not changes of their resource (a project's last issue number);
-- a vote or its withdrawal is an event of the issue, told by its counter (`issue.voted`, `issue.vote_withdrawn`,
-- with `votes` before and after; the actor is the voter), so issue_votes needs no trigger of its own.
create or replace function exitus_audit() returns trigger
    language plpgsql
    security definer
    set search_path = pg_catalog, public
    as $$
declare
    resource_type text := tg_argv[0];
    before_row jsonb := case when tg_op = 'UPDATE' then to_jsonb(old) - 'last_issue_number' end;
    after_row jsonb := to_jsonb(new) - 'last_issue_number';
    chain uuid := case when tg_argv[0] = 'customer' then new.id else (after_row ->> 'customer_id')::uuid end;
    actor_sub text := nullif(current_setting('exitus.actor_sub', true), '');
    actor_user_id uuid;
    changes jsonb;
    action text;
    event_id uuid := gen_random_uuid();
    occurred_at timestamptz := clock_timestamp();
    project_id uuid;
    issue_id uuid;
    sequence bigint;
    prev_hash text;
    document jsonb;
    digest text;
begin
    if tg_op = 'INSERT' then
        select coalesce(jsonb_object_agg(key, jsonb_build_object('after', value)), '{}') into changes
        from jsonb_each(after_row)
        where key not in ('customer_id', 'id', 'project_id', 'issue_id', 'created_at', 'updated_at');
        action := resource_type || '.created';
    else
        select coalesce(jsonb_object_agg(key, jsonb_build_object('before', before_row -> key, 'after', value)), '{}')
            into changes
        from jsonb_each(after_row)
        where key not in ('customer_id', 'id', 'project_id', 'issue_id', 'created_at', 'updated_at')
          and before_row -> key is distinct from value;
        if changes = '{}' then
            return null;
        end if;
        action := resource_type || case when changes ? 'state' then '.state_changed'
                                        when changes ? 'assignee' then '.assignee_changed'
                                        when changes ? 'votes' and (changes #>> '{votes,after}')::integer
                                                               > (changes #>> '{votes,before}')::integer
                                            then '.voted'
                                        when changes ? 'votes' then '.vote_withdrawn'
                                        else '.updated' end;
    end if;
    if resource_type in ('issue', 'comment') then
        project_id := (after_row ->> 'project_id')::uuid;
    end if;
    if resource_type = 'comment' then
        issue_id := (after_row ->> 'issue_id')::uuid;
    end if;
    if actor_sub is not null then
        if resource_type = 'user' and after_row ->> 'sub' = actor_sub then
            actor_user_id := (after_row ->> 'id')::uuid;  -- first sight: the user is its own actor
        else
            select u.id into actor_user_id from users u where u.customer_id = chain and u.sub = actor_sub;
        end if;
    end if;

    insert into audit_chains as c (customer_id, last_sequence, last_hash)
    values (chain, 1, repeat('0', 64))
    on conflict (customer_id) do update set last_sequence = c.last_sequence + 1
    returning c.last_sequence, c.last_hash into sequence, prev_hash;

    document := jsonb_build_object(
        'id', event_id,
        'customer_id', chain,
        'sequence', sequence,
        'occurred_at', to_char(occurred_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
        'actor', jsonb_build_object('sub', actor_sub, 'user_id', actor_user_id),
        'action', action,
        'resource', jsonb_build_object('type', resource_type, 'id', after_row -> 'id',
                                       'project_id', project_id, 'issue_id', issue_id),
        'changes', changes,
        'request_id', nullif(current_setting('exitus.request_id', true), ''),
        'trace_id', nullif(current_setting('exitus.trace_id', true), ''),
        'client_ip', nullif(current_setting('exitus.client_ip', true), ''),
        'user_agent', nullif(current_setting('exitus.user_agent', true), ''),
        'prev_hash', prev_hash
    );
    digest := encode(sha256(convert_to(exitus_canonical_json(document), 'UTF8')), 'hex');
    update audit_chains set last_hash = digest where customer_id = chain;

    insert into audit_events (customer_id, sequence, id, occurred_at, actor_sub, actor_user_id, action,
                              resource_type, resource_id, project_id, issue_id, changes,
                              request_id, trace_id, client_ip, user_agent, prev_hash, hash)
    values (chain, sequence, event_id, occurred_at, actor_sub, actor_user_id, action,
            resource_type, (after_row ->> 'id')::uuid, project_id, issue_id, changes,
            document ->> 'request_id', document ->> 'trace_id', document ->> 'client_ip', document ->> 'user_agent',
            prev_hash, digest);
    return null;
end
$$;

-- A vote is added and withdrawn; nothing else about it changes.
grant select, insert, delete on issue_votes to exitus_service;

analyze issues;
