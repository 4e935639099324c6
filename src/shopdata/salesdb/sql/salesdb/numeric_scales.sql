-- Decimal places each numeric column of the sales tables keeps (numeric(p, s) -> s): the
-- loaders refuse a value with more, instead of letting PostgreSQL round it silently.
select
    c.table_name::text as table_name,
    c.column_name::text as column_name,
    c.numeric_scale::integer as numeric_scale
from information_schema.columns as c
where c.table_schema = 'sales' and c.data_type = 'numeric' and c.numeric_scale is not null
order by c.table_name, c.ordinal_position
