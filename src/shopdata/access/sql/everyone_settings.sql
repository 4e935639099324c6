-- Session defaults that apply to every role (ALTER DATABASE ... SET, ALTER ROLE ALL
-- [IN DATABASE ...] SET): pg_db_role_setting rows with setrole = 0. They reach every person
-- for each setting the person's own defaults leave out, behind the matrix's back, which sets
-- defaults per team only; so every row is a finding.
select
    coalesce('database ' || d.datname, 'every database')::text as scope,
    c.setting::text as setting
from pg_catalog.pg_db_role_setting as s
left join pg_catalog.pg_database as d on s.setdatabase = d.oid
cross join lateral unnest(s.setconfig) as c (setting)
where s.setrole = 0
order by 1, 2
