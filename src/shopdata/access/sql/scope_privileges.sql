-- Database and schema privileges of each role: what the matrix's schemas section decides.
select
    r.role,
    s.schema_name,
    has_schema_privilege(r.role, s.schema_name, 'USAGE') as schema_usage,
    has_schema_privilege(r.role, s.schema_name, 'CREATE') as schema_create,
    has_database_privilege(r.role, current_database(), 'CONNECT') as db_connect,
    has_database_privilege(r.role, current_database(), 'TEMPORARY') as db_temporary,
    has_database_privilege(r.role, current_database(), 'CREATE') as db_create
from unnest(%(roles)s::text[]) as r (role)
cross join unnest(%(schemas)s::text[]) as s (schema_name)
order by r.role, s.schema_name
