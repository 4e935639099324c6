-- Reference: revenue per manufacturer from the line items; every manufacturer with items.
select
    mf.manufacturer_id,
    mf.name as manufacturer_name,
    count(distinct i.item_id) as items,
    coalesce(sum(li.quantity) filter (where t.status <> 'cancelled'), 0) as units_sold,
    coalesce(sum(li.quantity * li.unit_price) filter (where t.status <> 'cancelled'), 0)
        as revenue
from sales.manufacturers as mf
inner join sales.items as i on mf.manufacturer_id = i.manufacturer_id
left join sales.transaction_items as li on i.item_id = li.item_id
left join sales.transactions as t on li.transaction_id = t.transaction_id
group by mf.manufacturer_id, mf.name
order by revenue desc, manufacturer_name;
