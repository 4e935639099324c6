-- ERD: the tables of schema sales with their comments (grain and invariants), in dependency
-- order (parents before children), then by name.

select
    c.relname as table_name,
    obj_description(c.oid, 'pg_class') as table_comment
from pg_catalog.pg_class as c
where
    c.relnamespace = 'sales'::regnamespace
    and c.relkind = 'r'
order by
    array_position(
        array[
            'members', 'manufacturers', 'items', 'transactions', 'transaction_items',
            'member_spending', 'item_sales'
        ]::name[],
        c.relname
    ) asc nulls last,
    c.relname asc;
