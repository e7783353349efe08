-- Reverts 0004.label-limits.sql.
alter table issues drop constraint issues_label_length;
alter table projects drop constraint projects_label_length;
alter table customers drop constraint customers_label_length;
drop function exitus_labels_within_limits(text[]);
