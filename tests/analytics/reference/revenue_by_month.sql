-- Reference: revenue per UTC month from the line items (quantity * price charged).
select
    date_trunc('month', t.created_at at time zone 'UTC')::date as month,
    count(distinct t.transaction_id) as purchases,
    sum(li.quantity * li.unit_price) as revenue
from sales.transactions as t
inner join sales.transaction_items as li on t.transaction_id = li.transaction_id
where t.status <> 'cancelled'
group by 1
order by 1;
