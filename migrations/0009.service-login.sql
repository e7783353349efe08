-- The service's own login, `exitus_app`: a member of the serving role exitus_service (0005.audit) that owns nothing
-- and holds no privilege of its own. A deployment that gives `exitus serve` this login (infra/: the db-app secret)
-- holds against arbitrary SQL too: the session may leave exitus_service only for the login itself, which can do
-- nothing (NOINHERIT: exitus_service's privileges are not its own), and can become no other role. With one database
-- URL (the migrating role serves too) nothing changes: see .envrc.example.
-- depends: 0008.idempotency

-- Role names are cluster-wide: created once, by whichever database migrates first. No password: with password
-- authentication nobody can log in as it until one is set (on RDS the secret's rotation sets it; the multi-user
-- rotation also creates exitus_app_clone as a member of exitus_app, so the clone may assume exitus_service too).
do $$
begin
    if not exists (select 1 from pg_roles where rolname = 'exitus_app') then
        create role exitus_app login nosuperuser nocreatedb nocreaterole noinherit nobypassrls noreplication;
    end if;
exception when duplicate_object or unique_violation then
    null;  -- another database of the cluster created it meanwhile
end
$$;
grant exitus_service to exitus_app;
