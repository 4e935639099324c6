-- Revenue per manufacturer, largest first.
--
-- Revenue at the price charged over the purchases that count, of all the manufacturer's items
-- (discontinued included). Manufacturers whose items never sold are listed with 0. Equal
-- revenue: by manufacturer name. Reads marts.dim_items (one row per item).

select
    d.manufacturer_id,
    d.manufacturer_name,
    count(*) as items,
    sum(d.units_sold) as units_sold,
    sum(d.revenue) as revenue
from marts.dim_items as d
group by d.manufacturer_id, d.manufacturer_name
order by revenue desc, d.manufacturer_name asc;
