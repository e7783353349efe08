-- Searches and lists whose cost does not grow with other customers' data (bench/README.md, "Data size").
-- depends: 0002.row-level-security

-- The planner multiplies the selectivities of customer_id and project_id as if independent; a project belongs to one
-- customer, so it underestimated a big project's rows (by 4x at 1M issues) and sorted deep pages on disk instead of
-- walking issues_list_idx. Extended statistics teach it the dependency (uuid equality is leakproof, so they apply
-- under row-level security).
create statistics issues_scope_stats (dependencies, mcv) on customer_id, project_id from issues;
create statistics comments_scope_stats (dependencies, ndistinct) on customer_id, project_id, issue_id from comments;

-- These trigram indexes can never serve the service: under FORCEd row-level security a non-superuser's quals must
-- be leakproof to reach an index, and ILIKE (texticlike) is not; only a superuser could mark a wrapper LEAKPROOF.
-- The planner filters the tenant-scoped btree walk instead (queries/*.sql), so they cost every write and serve no
-- read. customers has no row-level security: customers_name_trgm_idx stays.
drop index issues_subject_trgm_idx;
drop index issues_content_trgm_idx;
drop index comments_content_trgm_idx;
drop index projects_name_trgm_idx;

analyze issues;
analyze comments;
