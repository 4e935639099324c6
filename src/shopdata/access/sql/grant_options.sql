-- Privileges held WITH GRANT OPTION by anyone but the object's owner, on the tables, views,
-- sequences, columns and schemas of this database and on the database itself. The matrix
-- gives no grant option: a team holding one can hand its cells to any other role.
with held as (
    select
        a.grantee,
        a.privilege_type,
        'table ' || c.oid::regclass::text as object_name
    from pg_catalog.pg_class as c
    inner join pg_catalog.pg_namespace as n on c.relnamespace = n.oid
    cross join lateral pg_catalog.aclexplode(c.relacl) as a
    where
        a.is_grantable and a.grantee <> c.relowner
        and n.nspname <> 'information_schema' and n.nspname !~ '^pg_'
    union all
    select
        a.grantee,
        a.privilege_type,
        'column ' || t.attname || ' of table ' || c.oid::regclass::text
    from pg_catalog.pg_attribute as t
    inner join pg_catalog.pg_class as c on t.attrelid = c.oid
    inner join pg_catalog.pg_namespace as n on c.relnamespace = n.oid
    cross join lateral pg_catalog.aclexplode(t.attacl) as a
    where
        a.is_grantable and a.grantee <> c.relowner
        and n.nspname <> 'information_schema' and n.nspname !~ '^pg_'
    union all
    select
        a.grantee,
        a.privilege_type,
        'schema ' || n.nspname as object_name
    from pg_catalog.pg_namespace as n
    cross join lateral pg_catalog.aclexplode(n.nspacl) as a
    where a.is_grantable and a.grantee <> n.nspowner
    union all
    select
        a.grantee,
        a.privilege_type,
        'database ' || d.datname as object_name
    from pg_catalog.pg_database as d
    cross join lateral pg_catalog.aclexplode(d.datacl) as a
    where
        d.datname = current_database()
        and a.is_grantable and a.grantee <> d.datdba
)

select
    (
        case
            when h.grantee = 0 then 'public'
            else pg_catalog.pg_get_userbyid(h.grantee)
        end
    )::text as grantee,
    h.privilege_type::text as privilege,
    h.object_name::text as object_name
from held as h
order by 1, 3, 2
