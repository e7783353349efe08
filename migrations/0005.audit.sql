-- Auditing: a per-customer, hash-chained, append-only trail of every change, written by triggers in the same
-- transaction as the change; and the role requests run as, which owns nothing (docs in openapi/exitus.yaml, "Audit").
-- depends: 0004.label-limits

-- The serving role. Role names are cluster-wide: created once, by whichever database migrates first; the grants
-- below are per database. The migrating role (like RDS's master: CREATEROLE, never superuser) becomes a member, so
-- `exitus serve` with the same login assumes it on every connection (exitus/db.py). A deployment with a separate
-- login for the service grants it this role instead; only that also holds against arbitrary SQL, since a session may
-- always SET ROLE back to its login (the service runs named queries only, so it never asks to).
do $$
begin
    if not exists (select 1 from pg_roles where rolname = 'exitus_service') then
        create role exitus_service nologin nosuperuser nocreatedb nocreaterole noinherit nobypassrls;
    end if;
exception when duplicate_object or unique_violation then
    null;  -- another database of the cluster created it meanwhile
end
$$;
grant exitus_service to current_user;

-- One row per customer: the head of its chain. Each event takes this row's lock until its transaction ends, so one
-- customer's writers queue here and get gap-free sequences; other customers' writers never meet.
create table audit_chains (
    customer_id   uuid primary key,
    last_sequence bigint not null,
    last_hash     text not null
);

create table audit_events (
    customer_id   uuid not null,
    sequence      bigint not null check (sequence >= 1),
    id            uuid not null,
    occurred_at   timestamptz not null,
    actor_sub     text,
    actor_user_id uuid,
    action        text not null,
    resource_type text not null,
    resource_id   uuid not null,
    project_id    uuid,
    issue_id      uuid,
    changes       jsonb not null,
    request_id    text,
    trace_id      text,
    client_ip     text,
    user_agent    text,
    prev_hash     text not null,
    hash          text not null,
    primary key (customer_id, sequence)
);
create index audit_events_resource_idx on audit_events (customer_id, resource_id, sequence);
create index audit_events_issue_idx on audit_events (customer_id, issue_id, sequence) where issue_id is not null;

alter table audit_events enable row level security;
alter table audit_events force row level security;
create policy audit_events_tenant on audit_events for select using (customer_id = exitus_request_customer());
-- Rows are added only by exitus_audit() below (which runs as the owner); the serving role has no INSERT privilege.
create policy audit_events_append on audit_events for insert with check (true);

-- Append-only, also for the owner: an UPDATE, DELETE or TRUNCATE fails (only a superuser can skip triggers).
create function exitus_audit_append_only() returns trigger
    language plpgsql
    as $$
begin
    raise exception 'audit events are append-only' using errcode = 'insufficient_privilege';
end
$$;
create trigger audit_events_append_only before update or delete on audit_events
    for each row execute function exitus_audit_append_only();
create trigger audit_events_no_truncate before truncate on audit_events
    for each statement execute function exitus_audit_append_only();

-- The canonical serialisation an event's hash is taken over: JSON with object keys sorted by code point, no
-- whitespace, arrays in order, strings escaped as JSON requires and nothing more (RFC 8785 for these values).
create function exitus_canonical_json(value jsonb) returns text
    language plpgsql immutable strict parallel safe
    as $$
-- PL/pgSQL, not SQL: a recursive SQL function is planned again on every call (it cost ~2 ms of CPU per event);
-- PL/pgSQL keeps its plans for the session.
declare
    parts text[];
    member_key text;
    member jsonb;
begin
    case jsonb_typeof(value)
    when 'object' then
        for member_key, member in select key, m.value from jsonb_each(value) as m order by key collate "C" loop
            parts := parts || (to_json(member_key)::text || ':' || exitus_canonical_json(member));
        end loop;
        return '{' || coalesce(array_to_string(parts, ','), '') || '}';
    when 'array' then
        for member in select element from jsonb_array_elements(value) as a (element) loop
            parts := parts || exitus_canonical_json(member);
        end loop;
        return '[' || coalesce(array_to_string(parts, ','), '') || ']';
    else
        return value::text;
    end case;
end
$$;

-- One event per changed row. The request's context (actor, request id, trace id, client address, user agent) is
-- bound with the customer when the transaction begins (queries/session.sql). An UPDATE that changes nothing (a
-- caller's unchanged profile met by a racing first request) writes no event.
create function exitus_audit() returns trigger
    language plpgsql
    security definer
    set search_path = pg_catalog, public
    as $$
declare
    resource_type text := tg_argv[0];
    before_row jsonb := case when tg_op = 'UPDATE' then to_jsonb(old) end;
    after_row jsonb := to_jsonb(new);
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
revoke all on function exitus_audit() from public;

-- The head of the bound customer's chain, for verification (the serving role may not read audit_chains itself).
create function exitus_audit_head(out last_sequence bigint, out last_hash text)
    language sql stable security definer
    set search_path = pg_catalog, public
    as $$ select last_sequence, last_hash from audit_chains where customer_id = exitus_request_customer() $$;

create trigger customers_audit after insert or update on customers
    for each row execute function exitus_audit('customer');
create trigger users_audit after insert or update on users
    for each row execute function exitus_audit('user');
create trigger projects_audit after insert or update on projects
    for each row execute function exitus_audit('project');
create trigger issues_audit after insert or update on issues
    for each row execute function exitus_audit('issue');
create trigger comments_audit after insert or update on comments
    for each row execute function exitus_audit('comment');

-- What the serving role may do: read and write the tenant tables (row-level security applies: it owns none of
-- them), read audit events, read which migrations are applied (readiness). No DDL, no TRUNCATE, no DELETE, no
-- UPDATE or INSERT of audit events, no access to audit_chains.
grant usage on schema public to exitus_service;
grant select, insert, update on customers, users, projects, issues, comments to exitus_service;
grant select on audit_events to exitus_service;
grant select on _yoyo_migration to exitus_service;
grant execute on function exitus_audit_head() to exitus_service;
