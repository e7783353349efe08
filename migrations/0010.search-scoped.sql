-- A rare term's search that does not grow with the table (issue 9). issues_search_idx (0007) is a multi-column GIN:
-- it keeps one posting list per column value, so a scan for a term reads the customer's, the project's and the
-- term's trigrams' posting lists, each over the whole table (other customers' rows included), and intersects them.
-- Its replacement keys every trigram by its project: a term's keys have the project's rows in their postings only.
-- depends: 0009.service-login

-- An issue's search keys: each trigram of its subject and of its content (pg_trgm's show_trgm: lower-cased words,
-- padded) hashed together with its project's id into a bigint, project in the high half. A hash may collide (two
-- projects, or two trigrams): that only adds candidates, which the search re-checks with ILIKE. Schema-qualified,
-- as an index expression runs with the writer's search_path.
create function exitus_search_keys(project uuid, subject text, content text) returns bigint[]
    language sql immutable parallel safe
    as $$
    select array(select (pg_catalog.uuid_hash(project)::bigint << 32) | (pg_catalog.hashtext(t)::bigint & 4294967295)
                 from pg_catalog.unnest(public.show_trgm(subject) || public.show_trgm(content)) as t)
    $$;

-- The keys that every issue of `project` matching the ILIKE `pattern` (escape character \) holds in
-- exitus_search_keys, for either column: the trigrams of each literal run of the pattern (between its wildcards % and
-- _, escapes resolved), less those at a run's edges, which depend on what the text has beside the run (another
-- letter, or a word's end and its padding). A trigram is kept only if the run gives it alone, between two letters
-- and between two other letters: then it is made of the run's characters, lower-cased as the text's are. Empty when
-- the pattern has no trigram (a run under three characters): nothing to look up.
create function exitus_search_pattern_keys(project uuid, pattern text) returns bigint[]
    language sql immutable parallel safe
    as $$
    select array(
        select distinct (pg_catalog.uuid_hash(project)::bigint << 32) | (pg_catalog.hashtext(k.t)::bigint & 4294967295)
        from (select pg_catalog.regexp_replace(m[1], '\\(.)', '\1', 'g') as run
              from pg_catalog.regexp_matches(pattern, '(?:\\.|[^\\%_])+', 'g') as m) as r,
             lateral (select pg_catalog.unnest(public.show_trgm(r.run))
                      intersect select pg_catalog.unnest(public.show_trgm('x' || r.run || 'x'))
                      intersect select pg_catalog.unnest(public.show_trgm('y' || r.run || 'y'))) as k(t))
    $$;

create index issues_search_keys_idx on issues using gin (exitus_search_keys(project_id, subject, content));
drop index issues_search_idx;

-- The search function of 0007, the same contract, security and owner (OR REPLACE keeps owner and grants: the
-- migrating role is a member of exitus_search only meanwhile, as in 0007): its index search now asks for the rows
-- whose keys hold all of the pattern's, and re-checks them with ILIKE. A pattern with no key (a term under three
-- characters) reads the project's rows through its list index.
grant exitus_search to current_user;
create or replace function exitus_search_issues(customer uuid, project uuid, pattern text, cap integer) returns uuid[]
    language plpgsql stable security definer
    set search_path = pg_catalog, public
    set enable_seqscan = off
    as $$
declare
    sampled integer;
    keys bigint[];
    found uuid[];
begin
    select count(*) into sampled  -- stops at the third match: a frequent term is told in a few rows
    from (select from (select i.subject, i.content from public.issues i
                       where i.customer_id = customer and i.customer_id = public.exitus_request_customer()
                         and i.project_id = project
                       order by i.created_at desc limit 500) as newest
          where newest.subject ilike pattern or newest.content ilike pattern
          limit 3) as hits;
    if sampled >= 3 then
        return null;
    end if;
    keys := public.exitus_search_pattern_keys(project, pattern);
    if cardinality(keys) = 0 then
        execute 'select array(select id from public.issues'
                ' where customer_id = $1 and customer_id = public.exitus_request_customer() and project_id = $2'
                '   and (subject ilike $3 or content ilike $3)'
                ' limit $4)'
            into found using customer, project, pattern, cap + 1;
    else
        execute 'select array(select id from public.issues'
                ' where customer_id = $1 and customer_id = public.exitus_request_customer() and project_id = $2'
                '   and public.exitus_search_keys(project_id, subject, content) @> $5'
                '   and (subject ilike $3 or content ilike $3)'
                ' limit $4)'
            into found using customer, project, pattern, cap + 1, keys;
    end if;
    return case when cardinality(found) > cap then null else found end;
end
$$;
revoke exitus_search from current_user;

analyze issues;
