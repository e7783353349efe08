-- The exitus schema: an F1-style hierarchy where every tenant table is keyed by (customer_id, ...), so a
-- customer's rows cluster together and the schema can be distributed by customer_id (docs/scaling.md).
-- depends:

create extension if not exists pg_trgm;  -- trigram indexes serve the case-insensitive substring search (q)

create table customers (
    id          uuid primary key default gen_random_uuid(),
    name        text not null check (length(name) between 1 and 200),
    description text not null default '' check (length(description) <= 4000),
    labels      text[] not null default '{}' check (cardinality(labels) <= 32),
    version     integer not null default 1,
    created_at  timestamptz not null default now(),
    updated_at  timestamptz not null default now()
);
create unique index customers_name_key on customers (lower(name));
create index customers_list_idx on customers (created_at, id);
create index customers_name_trgm_idx on customers using gin (name gin_trgm_ops);

-- Users are the subjects of verified tokens, recorded per customer on their first request.
create table users (
    customer_id uuid not null references customers (id),
    id          uuid not null default gen_random_uuid(),
    sub         text not null check (length(sub) between 1 and 255),
    email       text check (length(email) <= 320),
    name        text check (length(name) <= 200),
    version     integer not null default 1,
    created_at  timestamptz not null default now(),
    updated_at  timestamptz not null default now(),
    primary key (customer_id, id),
    constraint users_sub_key unique (customer_id, sub)
);
create index users_list_idx on users (customer_id, created_at, id);

create table projects (
    customer_id uuid not null references customers (id),
    id          uuid not null default gen_random_uuid(),
    name        text not null check (length(name) between 1 and 200),
    description text not null default '' check (length(description) <= 4000),
    labels      text[] not null default '{}' check (cardinality(labels) <= 32),
    version     integer not null default 1,
    created_at  timestamptz not null default now(),
    updated_at  timestamptz not null default now(),
    primary key (customer_id, id)
);
create unique index projects_name_key on projects (customer_id, lower(name));
create index projects_list_idx on projects (customer_id, created_at, id);
create index projects_name_trgm_idx on projects using gin (name gin_trgm_ops);

create table issues (
    customer_id uuid not null,
    project_id  uuid not null,
    id          uuid not null default gen_random_uuid(),
    subject     text not null check (length(subject) between 1 and 200),
    content     text not null check (length(content) <= 65536),
    severity    text not null check (severity in ('low', 'medium', 'high', 'critical')),
    category    text not null check (category in ('bug', 'feature', 'improvement', 'task', 'question')),
    labels      text[] not null default '{}' check (cardinality(labels) <= 32),
    state       text not null default 'open' check (state in ('open', 'closed')),
    reporter    uuid not null,
    assignee    uuid,
    version     integer not null default 1,
    created_at  timestamptz not null default now(),
    updated_at  timestamptz not null default now(),
    primary key (customer_id, project_id, id),
    constraint issues_project_fkey foreign key (customer_id, project_id) references projects (customer_id, id),
    constraint issues_reporter_fkey foreign key (customer_id, reporter) references users (customer_id, id),
    constraint issues_assignee_fkey foreign key (customer_id, assignee) references users (customer_id, id)
);
create index issues_list_idx on issues (customer_id, project_id, created_at, id);
create index issues_subject_trgm_idx on issues using gin (subject gin_trgm_ops);
create index issues_content_trgm_idx on issues using gin (content gin_trgm_ops);
create index issues_assignee_idx on issues (customer_id, assignee) where assignee is not null;

create table comments (
    customer_id uuid not null,
    project_id  uuid not null,
    issue_id    uuid not null,
    id          uuid not null default gen_random_uuid(),
    content     text not null check (length(content) between 1 and 65536),
    author      uuid not null,
    version     integer not null default 1,
    created_at  timestamptz not null default now(),
    updated_at  timestamptz not null default now(),
    primary key (customer_id, project_id, issue_id, id),
    constraint comments_issue_fkey foreign key (customer_id, project_id, issue_id)
        references issues (customer_id, project_id, id),
    constraint comments_author_fkey foreign key (customer_id, author) references users (customer_id, id)
);
create index comments_list_idx on comments (customer_id, project_id, issue_id, created_at, id);
create index comments_content_trgm_idx on comments using gin (content gin_trgm_ops);
