-- Grain: one row per month in which members joined (UTC): how many joined, how many of them
-- have bought since, how many within 30 days of joining, and the days to their first purchase.
select
    d.joined_month,
    count(*) as members_joined,
    count(d.first_purchase_day) as members_purchased,
    count(*) filter (
        where d.first_purchase_day <= d.joined_day + 30
    ) as purchased_within_30_days,
    sum(d.first_purchase_day - d.joined_day) as days_to_first_purchase_total,
    coalesce(sum(d.total_spent), 0) as total_spent
from {{ ref('dim_members') }} as d
group by d.joined_month
