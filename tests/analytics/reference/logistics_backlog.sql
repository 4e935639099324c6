-- Reference: pending purchases with at least one line, by age bucket, from the transactions.
with pending as (
    select (now() at time zone 'UTC')::date - (t.created_at at time zone 'UTC')::date as age_days,
        (t.created_at at time zone 'UTC')::date as day, t.total_weight_kg
    from sales.transactions as t
    where t.status = 'pending'
        and exists (select from sales.transaction_items as li where li.transaction_id = t.transaction_id)
)

select
    case when age_days <= 1 then '0-1 days' when age_days <= 7 then '2-7 days'
        when age_days <= 30 then '8-30 days' else 'over 30 days' end as age,
    count(*), sum(total_weight_kg), min(day) as oldest_day
from pending
group by 1
order by oldest_day;
