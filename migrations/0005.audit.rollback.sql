-- Reverts 0005.audit.sql. The role stays while other databases of the cluster still grant it something.
revoke all on _yoyo_migration from exitus_service;
revoke all on customers, users, projects, issues, comments from exitus_service;
revoke all on schema public from exitus_service;
drop trigger comments_audit on comments;
drop trigger issues_audit on issues;
drop trigger projects_audit on projects;
drop trigger users_audit on users;
drop trigger customers_audit on customers;
drop function exitus_audit_head();
drop function exitus_audit();
drop function exitus_canonical_json(jsonb);
drop table audit_events;
drop function exitus_audit_append_only();
drop table audit_chains;
do $$
begin
    drop role exitus_service;
exception when dependent_objects_still_exist then
    null;  -- its memberships stay too: the other databases' services assume it
end
$$;
