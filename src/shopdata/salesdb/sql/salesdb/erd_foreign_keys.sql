-- ERD: one row per foreign key of the sales tables: child, parent, columns, whether the child
-- columns may be null, and whether the child columns are also its primary key (1 : 0..1).

select
    child.relname as child_table,
    parent.relname as parent_table,
    (
        select string_agg(a.attname, ', ' order by a.attnum)
        from pg_catalog.pg_attribute as a
        where a.attrelid = k.conrelid and a.attnum = any(k.conkey)
    ) as fk_columns,
    exists(
        select 1
        from pg_catalog.pg_attribute as a
        where a.attrelid = k.conrelid and a.attnum = any(k.conkey) and not a.attnotnull
    ) as nullable,
    exists(
        select 1
        from pg_catalog.pg_constraint as p
        where
            p.conrelid = k.conrelid
            and p.contype = 'p'
            and p.conkey = k.conkey
    ) as one_to_one
from pg_catalog.pg_constraint as k
inner join pg_catalog.pg_class as child on k.conrelid = child.oid
inner join pg_catalog.pg_class as parent on k.confrelid = parent.oid
where
    k.contype = 'f'
    and child.relnamespace = 'sales'::regnamespace
order by child.relname asc, k.conname asc;
