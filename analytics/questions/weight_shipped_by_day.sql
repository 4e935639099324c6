-- Weight shipped per day, last 30 days.
--
-- Per UTC day on which logistics completed purchases, from 30 days before today to today:
-- purchases shipped, units and total weight in kg. Days with no shipment are left out.
-- Newest first. Reads marts.agg_daily_shipments (one row per day).

select
    s.day,
    s.purchases_shipped,
    s.units_shipped,
    s.weight_kg_shipped
from marts.agg_daily_shipments as s
where s.day >= (now() at time zone 'UTC')::date - 30
order by s.day desc;
