-- Basket sizes: how many purchases hold 1, 2, 3, ... distinct items, all time.
--
-- Over the purchases that count; share = purchases / all such purchases, in percent, rounded to
-- 2 decimals; avg_basket_value rounded to 2 decimals. Reads marts.agg_daily_basket_sizes.

with sizes as (
    select
        b.line_count as distinct_items,
        sum(b.purchases) as purchases,
        sum(b.units) as units,
        sum(b.revenue) as revenue
    from marts.agg_daily_basket_sizes as b
    group by b.line_count
    having sum(b.purchases) > 0
)

select
    s.distinct_items,
    s.purchases,
    round(100.0 * s.purchases / sum(s.purchases) over (), 2) as share_pct,
    round(s.revenue / s.purchases, 2) as avg_basket_value
from sizes as s
order by s.distinct_items;
