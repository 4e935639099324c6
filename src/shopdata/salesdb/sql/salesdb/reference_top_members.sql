-- Reference for analyst/top_members.sql: the same definition computed from the base tables
-- (plain aggregation, no summary). Tests require equal answers; the benchmark times both.
-- transaction_count counts the member's purchases that are not cancelled and hold a line item
-- (an empty basket is no purchase; its total_price is 0, so spending is the same either way).

with spending as (
    select
        t.membership_id,
        sum(t.total_price) as total_spent,
        count(*) filter (where t.total_quantity > 0) as transaction_count
    from sales.transactions as t
    where t.status <> 'cancelled'
    group by t.membership_id
    having sum(t.total_price) > 0
),

ranked as (
    select
        s.membership_id,
        s.total_spent,
        s.transaction_count,
        rank() over (order by s.total_spent desc) as spending_rank
    from spending as s
    order by s.total_spent desc
    fetch first 10 rows with ties
)

select
    r.spending_rank,
    r.membership_id,
    m.first_name,
    m.last_name,
    r.total_spent,
    r.transaction_count::integer as transaction_count
from ranked as r
inner join sales.members as m on r.membership_id = m.membership_id
order by r.spending_rank asc, r.membership_id asc;
