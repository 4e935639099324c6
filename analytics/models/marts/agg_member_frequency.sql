-- Grain: one row per number of counted purchases a member made (0, 1, 2, ...): how many members.
select
    d.purchase_count,
    count(*) as members,
    sum(d.total_spent) as total_spent
from {{ ref('dim_members') }} as d
group by d.purchase_count
