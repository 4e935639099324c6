-- Tables and views a team could be granted something on, with their columns in order.
select
    n.nspname || '.' || c.relname as relation,
    case c.relkind when 'v' then 'view' else 'table' end as kind,
    array_agg(a.attname::text order by a.attnum) as columns
from pg_catalog.pg_class as c
inner join pg_catalog.pg_namespace as n on c.relnamespace = n.oid
inner join pg_catalog.pg_attribute as a
    on c.oid = a.attrelid and a.attnum > 0 and not a.attisdropped
where n.nspname = any(%(schemas)s::text[]) and c.relkind in ('r', 'p', 'v', 'm', 'f')
group by n.nspname, c.relname, c.relkind
order by relation
