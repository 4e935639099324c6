-- Top 10 items by revenue last month.
--
-- Last month: the calendar month (UTC) before the current one. Revenue at the price charged
-- over the purchases that count made that month. Ties with the 10th are listed; equal revenue
-- by item_id. Reads marts.agg_monthly_item_sales (one row per month and item sold).

with leaders as (
    select
        s.item_id,
        s.purchase_count,
        s.units_sold,
        s.revenue
    from marts.agg_monthly_item_sales as s
    where
        s.month = (date_trunc('month', now() at time zone 'UTC') - interval '1 month')::date
        and s.revenue > 0
    order by s.revenue desc
    fetch first 10 rows with ties
)

select
    rank() over (order by l.revenue desc) as revenue_rank,
    l.item_id,
    d.item_name,
    d.manufacturer_name,
    l.purchase_count,
    l.units_sold,
    l.revenue
from leaders as l
inner join marts.dim_items as d on l.item_id = d.item_id
order by revenue_rank asc, l.item_id asc;
