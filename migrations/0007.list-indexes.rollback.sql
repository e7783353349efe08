-- Reverts 0007.list-indexes.sql. The role stays while other databases of the cluster still grant it something.
grant exitus_search to current_user;  -- to drop its function
drop function exitus_search_issues(uuid, uuid, text, integer);
drop index issues_search_idx;
drop policy issues_search on issues;
revoke all on issues from exitus_search;
do $$
begin
    drop role exitus_search;
exception when dependent_objects_still_exist then
    revoke exitus_search from current_user;  -- another database's search function still needs the role
end
$$;
create index issues_assignee_idx on issues (customer_id, assignee) where assignee is not null;
drop index issues_reporter_idx;
drop index issues_assignee_list_idx;
drop index issues_state_idx;
drop index issues_severity_idx;
drop index issues_votes_idx;
drop index issues_updated_idx;
drop function exitus_severity_rank(text);
drop extension if exists btree_gin;
