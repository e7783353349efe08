-- Reverts 0002.row-level-security.sql.
drop policy comments_tenant on comments;
alter table comments no force row level security;
alter table comments disable row level security;
drop policy issues_tenant on issues;
alter table issues no force row level security;
alter table issues disable row level security;
drop policy projects_tenant on projects;
alter table projects no force row level security;
alter table projects disable row level security;
drop policy users_tenant on users;
alter table users no force row level security;
alter table users disable row level security;
drop function exitus_request_customer();
