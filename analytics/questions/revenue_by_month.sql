-- Revenue per calendar month (UTC).
--
-- Revenue: the prices charged (quantity * unit_price at the time of sale) over the purchases
-- that count (pending and completed; cancelled never), by the month the purchase was made.
-- Months with purchases only, oldest first. Reads marts.agg_daily_sales (one row per day).

select
    date_trunc('month', s.day)::date as month_start,
    sum(s.purchases) as purchases,
    sum(s.revenue) as revenue
from marts.agg_daily_sales as s
group by date_trunc('month', s.day)
having sum(s.purchases) > 0
order by month_start;
