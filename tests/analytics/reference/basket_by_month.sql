-- Reference: average basket per UTC month, from the transactions and their line items.
with baskets as (
    select
        t.transaction_id,
        date_trunc('month', t.created_at at time zone 'UTC')::date as month,
        sum(li.quantity * li.unit_price) as value,
        sum(li.quantity) as units,
        count(*) as distinct_items
    from sales.transactions as t
    inner join sales.transaction_items as li on t.transaction_id = li.transaction_id
    where t.status <> 'cancelled'
    group by t.transaction_id
)

select month, count(*) as purchases, round(sum(value) / count(*), 2),
    round(sum(units)::numeric / count(*), 2), round(sum(distinct_items)::numeric / count(*), 2)
from baskets
group by month
order by month;
