-- Reference: members per UTC joining month and their first counted purchase.
with firsts as (
    select m.membership_id,
        date_trunc('month', m.joined_at at time zone 'UTC')::date as joined_month,
        (m.joined_at at time zone 'UTC')::date as joined_day,
        min((t.created_at at time zone 'UTC')::date) as first_day
    from sales.members as m
    left join sales.transactions as t
        on m.membership_id = t.membership_id and t.status <> 'cancelled'
        and exists (select from sales.transaction_items as li where li.transaction_id = t.transaction_id)
    group by m.membership_id, m.joined_at
)

select joined_month, count(*), count(first_day),
    count(*) filter (where first_day <= joined_day + 30),
    round(avg(first_day - joined_day), 1)
from firsts
group by joined_month
order by joined_month;
