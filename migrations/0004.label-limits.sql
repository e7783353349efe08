-- The limits the API declares (openapi/exitus.yaml) held by the database too, so that no parser or validation bug
-- upstream can store what the contract forbids: 0001 holds names, descriptions, contents and label counts; this
-- adds the length of each label (1 to 64 characters, none null). Violations answer 400 (exitus/errors.py).
-- depends: 0003.search-plans

create function exitus_labels_within_limits(labels text[]) returns boolean
    language sql immutable parallel safe
    as $$ select coalesce(bool_and(label is not null and length(label) between 1 and 64), true) from unnest(labels) as label $$;

alter table customers add constraint customers_label_length check (exitus_labels_within_limits(labels));
alter table projects add constraint projects_label_length check (exitus_labels_within_limits(labels));
alter table issues add constraint issues_label_length check (exitus_labels_within_limits(labels));
