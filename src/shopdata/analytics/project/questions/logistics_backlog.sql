-- Logistics backlog by age.
--
-- Backlog: purchases paid but not yet shipped (status pending, at least one line item: an
-- empty basket has nothing to ship), as of the last refresh.
-- Per age of the purchase in whole UTC days (today - the day it was made), bucketed as
-- 0-1, 2-7, 8-30, over 30 days: how many purchases and their weight in kg. Buckets with none
-- are left out. Reads marts.agg_daily_sales (pending_* columns).

select
    case
        when (now() at time zone 'UTC')::date - s.day <= 1 then '0-1 days'
        when (now() at time zone 'UTC')::date - s.day <= 7 then '2-7 days'
        when (now() at time zone 'UTC')::date - s.day <= 30 then '8-30 days'
        else 'over 30 days'
    end as age,
    sum(s.pending_purchases) as pending_purchases,
    sum(s.pending_weight_kg) as pending_weight_kg,
    min(s.day) as oldest_day
from marts.agg_daily_sales as s
where s.pending_purchases > 0
group by age
order by oldest_day;
