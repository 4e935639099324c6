-- Reference: members whose last counted purchase is more than 90 UTC days old, per status.
with last_purchase as (
    select m.status::text as status,
        max((t.created_at at time zone 'UTC')::date) as last_day
    from sales.members as m
    inner join sales.transactions as t on m.membership_id = t.membership_id
    where t.status <> 'cancelled'
        and exists (select from sales.transaction_items as li where li.transaction_id = t.transaction_id)
    group by m.membership_id, m.status
)

select status,
    count(*) filter (where last_day < (now() at time zone 'UTC')::date - 90),
    count(*),
    round(100.0 * count(*) filter (where last_day < (now() at time zone 'UTC')::date - 90)
        / count(*), 2)
from last_purchase
group by status
order by status;
