-- Reverts 0006.tracker.sql. Issues in progress are open again, resolved ones closed. exitus_audit() stays as 0006
-- left it: on 0005's tables (no votes, no issue counter) it does exactly what 0005's did.
revoke all on issue_votes from exitus_service;
drop table issue_votes;
drop trigger issues_state_transition on issues;
drop function exitus_issue_state_guard();
drop function exitus_issue_next_states(text);
alter table issues drop constraint issues_state_check;
alter table issues disable trigger issues_audit;
alter table issues no force row level security;
update issues set state = case state when 'in_progress' then 'open' else 'closed' end
where state not in ('open', 'closed');
alter table issues force row level security;
alter table issues enable trigger issues_audit;
alter table issues add constraint issues_state_check check (state in ('open', 'closed'));
drop trigger issues_number on issues;
drop function exitus_issue_number();
alter table issues drop constraint issues_number_key;
alter table issues drop column number;
alter table issues drop column votes;
alter table projects drop column last_issue_number;
