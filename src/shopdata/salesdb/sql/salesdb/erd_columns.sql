-- ERD: columns of every sales table in definition order, with type, nullability and whether
-- they are part of the primary key or of a foreign key.

select
    c.relname as table_name,
    a.attname as column_name,
    format_type(a.atttypid, a.atttypmod) as column_type,
    a.attnotnull as not_null,
    exists(
        select 1
        from pg_catalog.pg_constraint as k
        where k.conrelid = c.oid and k.contype = 'p' and a.attnum = any(k.conkey)
    ) as is_primary_key,
    exists(
        select 1
        from pg_catalog.pg_constraint as k
        where k.conrelid = c.oid and k.contype = 'f' and a.attnum = any(k.conkey)
    ) as is_foreign_key
from pg_catalog.pg_class as c
inner join pg_catalog.pg_attribute as a on c.oid = a.attrelid
where
    c.relnamespace = 'sales'::regnamespace
    and c.relkind = 'r'
    and a.attnum > 0
    and not a.attisdropped
order by c.relname asc, a.attnum asc;
