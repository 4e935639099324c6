-- Reference: top 3 items by number of purchases, from the base tables.
with sold as (
    select li.item_id, count(*) as purchase_count, sum(li.quantity) as units_sold
    from sales.transaction_items as li
    inner join sales.transactions as t on li.transaction_id = t.transaction_id
    where t.status <> 'cancelled'
    group by li.item_id
),

ranked as (select *, rank() over (order by purchase_count desc) as purchase_rank from sold)

select r.purchase_rank, r.item_id, i.name as item_name, mf.name as manufacturer_name,
    r.purchase_count, r.units_sold
from ranked as r
inner join sales.items as i on r.item_id = i.item_id
inner join sales.manufacturers as mf on i.manufacturer_id = mf.manufacturer_id
where r.purchase_rank <= (select max(purchase_rank) from (
    select purchase_rank from ranked order by purchase_rank limit 3) as cut)
order by r.purchase_rank, r.item_id;
