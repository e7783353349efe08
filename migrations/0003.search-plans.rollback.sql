-- Reverts 0003.search-plans.sql.
create index projects_name_trgm_idx on projects using gin (name gin_trgm_ops);
create index comments_content_trgm_idx on comments using gin (content gin_trgm_ops);
create index issues_content_trgm_idx on issues using gin (content gin_trgm_ops);
create index issues_subject_trgm_idx on issues using gin (subject gin_trgm_ops);
drop statistics comments_scope_stats;
drop statistics issues_scope_stats;
