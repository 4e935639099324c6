-- Average basket per calendar month (UTC).
--
-- Over the purchases that count made that month: the average amount paid per purchase, the
-- average number of units and of distinct items per purchase, each rounded to 2 decimals.
-- Months with purchases only, oldest first. Reads marts.agg_daily_sales.

select
    date_trunc('month', s.day)::date as month_start,
    sum(s.purchases) as purchases,
    round(sum(s.revenue) / sum(s.purchases), 2) as avg_basket_value,
    round(sum(s.units)::numeric / sum(s.purchases), 2) as avg_units,
    round(sum(s.line_items)::numeric / sum(s.purchases), 2) as avg_distinct_items
from marts.agg_daily_sales as s
group by date_trunc('month', s.day)
having sum(s.purchases) > 0
order by month_start;
