-- Discontinued items and their last sale.
--
-- Items removed from sale (discontinued_at set): when, the UTC day of their last purchase that
-- counts (null if never sold), and their lifetime units and revenue. Most recently
-- discontinued first, then by item_id. Reads marts.dim_items.

select
    d.item_id,
    d.item_name,
    d.manufacturer_name,
    d.discontinued_at,
    d.last_sold_day,
    d.units_sold,
    d.revenue
from marts.dim_items as d
where d.discontinued_at is not null
order by d.discontinued_at desc, d.item_id asc;
