-- New members per month and their first purchase.
--
-- Per month in which members joined (UTC): how many joined, how many have made a purchase that
-- counts since, how many did so within 30 days of joining, and the average number of days from
-- joining to the first purchase (rounded to 1 decimal; null if none bought). Oldest first.
-- Reads marts.agg_member_cohorts (one row per month).

select
    c.joined_month,
    c.members_joined,
    c.members_purchased,
    c.purchased_within_30_days,
    round(c.days_to_first_purchase_total::numeric / nullif(c.members_purchased, 0), 1)
        as avg_days_to_first_purchase
from marts.agg_member_cohorts as c
order by c.joined_month;
