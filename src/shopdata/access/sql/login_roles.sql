-- Every role that can log in (but the bootstrap superuser, oid 10: the owner), and the team
-- roles, with what the people audit compares with the matrix: attributes, memberships in other
-- roles, and session defaults (ALTER ROLE ... [IN DATABASE ...] SET) in any database.
select
    r.rolname::text as role_name,
    r.rolcanlogin as can_login,
    r.rolsuper as is_superuser,
    r.rolcreatedb as can_create_db,
    r.rolcreaterole as can_create_role,
    r.rolreplication as can_replicate,
    r.rolbypassrls as bypasses_rls,
    r.rolconnlimit as connection_limit,
    coalesce((
        select
            array_agg(
                g.rolname::text || case when m.admin_option then ' with admin option' else '' end
                order by g.rolname
            )
        from pg_catalog.pg_auth_members as m
        inner join pg_catalog.pg_roles as g on m.roleid = g.oid
        where m.member = r.oid
    ), '{}') as member_of,
    coalesce((
        select
            array_agg(
                coalesce('in database ' || d.datname || ': ', '') || c.setting
                order by d.datname nulls first, c.setting
            )
        from pg_catalog.pg_db_role_setting as s
        left join pg_catalog.pg_database as d on s.setdatabase = d.oid
        cross join lateral unnest(s.setconfig) as c (setting)
        where s.setrole = r.oid
    ), '{}') as settings
from pg_catalog.pg_roles as r
where (r.rolcanlogin and r.oid <> 10) or r.rolname = any(%(teams)s::text[])
order by r.rolname
