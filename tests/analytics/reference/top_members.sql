-- Reference: top 10 members by spending, straight from the base tables.
with spending as (
    select m.member_key, sum(t.total_price) as total_spent, count(*) as purchase_count
    from sales.transactions as t
    inner join sales.members as m on t.membership_id = m.membership_id
    where t.status <> 'cancelled'
        and exists (select from sales.transaction_items as li where li.transaction_id = t.transaction_id)
    group by m.member_key
    having sum(t.total_price) > 0
),

ranked as (
    select *, rank() over (order by total_spent desc) as spending_rank from spending
)

select spending_rank, member_key, total_spent, purchase_count
from ranked
where spending_rank <= (select max(r) from (
    select rank() over (order by total_spent desc) as r from spending order by 1 limit 10
) as cut)
order by spending_rank, member_key;
