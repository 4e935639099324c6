-- Reference: purchases by number of distinct items, from the line items.
with baskets as (
    select t.transaction_id, count(*) as distinct_items, sum(li.quantity * li.unit_price) as value
    from sales.transactions as t
    inner join sales.transaction_items as li on t.transaction_id = li.transaction_id
    where t.status <> 'cancelled'
    group by t.transaction_id
)

select distinct_items, count(*) as purchases,
    round(100.0 * count(*) / sum(count(*)) over (), 2),
    round(sum(value) / count(*), 2)
from baskets
group by distinct_items
order by distinct_items;
