-- What the catalog ties to each login role (but the owner, oid 10) and to each team role:
-- objects it owns ('o'), grants made to it directly ('a': table, column, schema, database,
-- function, default-privilege entries...) and policies naming it ('r'). pg_shdepend covers
-- every database of the cluster; objects of other databases are named by their database.
with here as (
    select d.oid from pg_catalog.pg_database as d where d.datname = current_database()
)

select
    r.rolname::text as role_name,
    r.rolcanlogin as can_login,
    s.deptype::text as dependency,
    case
        when s.dbid = 0 or s.dbid = (select here.oid from here)
            then pg_catalog.pg_describe_object(s.classid, s.objid, s.objsubid)
        else
            'an object in database '
            || (select d.datname from pg_catalog.pg_database as d where d.oid = s.dbid)
    end as object_name
from pg_catalog.pg_shdepend as s
inner join pg_catalog.pg_roles as r
    on s.refclassid = 'pg_catalog.pg_authid'::regclass and s.refobjid = r.oid
where
    s.deptype in ('o', 'a', 'r')
    and ((r.rolcanlogin and r.oid <> 10) or (r.rolname = any(%(teams)s::text[]) and s.deptype = 'o'))
order by 1, 3, 4
