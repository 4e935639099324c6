-- Reference: top 20 items by revenue, from the line items.
with sold as (
    select li.item_id, sum(li.quantity) as units_sold, sum(li.quantity * li.unit_price) as revenue
    from sales.transaction_items as li
    inner join sales.transactions as t on li.transaction_id = t.transaction_id
    where t.status <> 'cancelled'
    group by li.item_id
    having sum(li.quantity * li.unit_price) > 0
),

ranked as (select *, rank() over (order by revenue desc) as revenue_rank from sold)

select r.revenue_rank, r.item_id, i.name, mf.name, r.units_sold, r.revenue
from ranked as r
inner join sales.items as i on r.item_id = i.item_id
inner join sales.manufacturers as mf on i.manufacturer_id = mf.manufacturer_id
where r.revenue_rank <= (select max(revenue_rank) from (
    select revenue_rank from ranked order by revenue_rank limit 20) as cut)
order by r.revenue_rank, r.item_id;
