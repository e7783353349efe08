-- Row-level security: defence in depth beneath the customer_id filters in queries/. Each request's transaction
-- names its customer (set_config('exitus.customer_id', ..., true) in queries/session.sql); tenant rows of any other
-- customer are invisible and unwritable even to a query that forgets its filter. FORCE applies the policies to the
-- table owner too (the role the service connects as); only superusers bypass them.
-- depends: 0001.schema

create function exitus_request_customer() returns uuid
    language sql stable
    as $$ select nullif(current_setting('exitus.customer_id', true), '')::uuid $$;

alter table users enable row level security;
alter table users force row level security;
create policy users_tenant on users using (customer_id = exitus_request_customer());

alter table projects enable row level security;
alter table projects force row level security;
create policy projects_tenant on projects using (customer_id = exitus_request_customer());

alter table issues enable row level security;
alter table issues force row level security;
create policy issues_tenant on issues using (customer_id = exitus_request_customer());

alter table comments enable row level security;
alter table comments force row level security;
create policy comments_tenant on comments using (customer_id = exitus_request_customer());
