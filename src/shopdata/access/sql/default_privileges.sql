-- Default privileges (ALTER DEFAULT PRIVILEGES) that hand something to a role other than the
-- creator of future objects: the matrix grants nothing by default, so every row is a finding.
select
    pg_catalog.pg_get_userbyid(d.defaclrole)::text as creator,
    coalesce('in schema ' || n.nspname, 'in every schema') as scope,
    case d.defaclobjtype
        when 'r' then 'tables' when 'S' then 'sequences' when 'f' then 'functions'
        when 'T' then 'types' when 'n' then 'schemas' when 'L' then 'large objects'
        else d.defaclobjtype::text
    end as object_kind,
    case when a.grantee = 0 then 'public' else pg_catalog.pg_get_userbyid(a.grantee)::text end
    as grantee,
    a.privilege_type::text as privilege
from pg_catalog.pg_default_acl as d
left join pg_catalog.pg_namespace as n on d.defaclnamespace = n.oid
cross join lateral pg_catalog.aclexplode(d.defaclacl) as a
where a.grantee <> d.defaclrole
order by 1, 2, 3, 4, 5
