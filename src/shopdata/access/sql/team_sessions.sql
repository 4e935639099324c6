-- Sessions of people (non-superuser login roles) on this server, with how long each has been
-- idle inside an open transaction and how many other sessions wait for its locks.
select
    a.pid,
    a.usename::text as user_name,
    coalesce(a.datname::text, '') as database_name,
    coalesce(a.state, '') as state,
    case
        when a.state like 'idle in transaction%%'
            then extract(epoch from (clock_timestamp() - a.state_change))::integer
    end as idle_in_transaction_s,
    case
        when a.xact_start is not null
            then extract(epoch from (clock_timestamp() - a.xact_start))::integer
    end as transaction_s,
    (
        select count(*)::integer
        from pg_catalog.pg_stat_activity as w
        where a.pid = any(pg_catalog.pg_blocking_pids(w.pid))
    ) as blocking
from pg_catalog.pg_stat_activity as a
inner join pg_catalog.pg_roles as r on a.usesysid = r.oid
where a.backend_type = 'client backend' and not r.rolsuper and a.pid <> pg_catalog.pg_backend_pid()
order by a.usename, a.pid
