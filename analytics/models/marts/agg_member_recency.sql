-- Grain: one row per (day of the member's last counted purchase, membership status): how many
-- members. Members who never bought have a null last_purchase_day. "Who has not bought for N
-- days" is then a sum over at most a few thousand rows.
select
    d.last_purchase_day,
    d.status,
    count(*) as members
from {{ ref('dim_members') }} as d
group by d.last_purchase_day, d.status
