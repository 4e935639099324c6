-- Top 20 items by revenue, all time.
--
-- Revenue at the price charged over the purchases that count. Ties with the 20th are listed;
-- equal revenue by item_id. Items that never sold are never listed. Reads marts.dim_items
-- through its revenue index.

with leaders as (
    select
        d.item_id,
        d.item_name,
        d.manufacturer_name,
        d.units_sold,
        d.revenue
    from marts.dim_items as d
    where d.revenue > 0
    order by d.revenue desc
    fetch first 20 rows with ties
)

select
    rank() over (order by l.revenue desc) as revenue_rank,
    l.item_id,
    l.item_name,
    l.manufacturer_name,
    l.units_sold,
    l.revenue
from leaders as l
order by revenue_rank asc, l.item_id asc;
