-- Reference: completed purchases per UTC completion day in the last 30 days, from line items.
select (t.completed_at at time zone 'UTC')::date as day, count(distinct t.transaction_id),
    sum(li.quantity), sum(li.quantity * li.unit_weight_kg)
from sales.transactions as t
inner join sales.transaction_items as li on t.transaction_id = li.transaction_id
where t.status = 'completed'
    and (t.completed_at at time zone 'UTC')::date >= (now() at time zone 'UTC')::date - 30
group by 1
order by 1 desc;
