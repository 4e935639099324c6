-- Reference: discontinued items, their last counted sale day and lifetime sales.
select i.item_id, i.name, mf.name, i.discontinued_at,
    max((t.created_at at time zone 'UTC')::date) filter (where t.status <> 'cancelled'),
    coalesce(sum(li.quantity) filter (where t.status <> 'cancelled'), 0),
    coalesce(sum(li.quantity * li.unit_price) filter (where t.status <> 'cancelled'), 0)
from sales.items as i
inner join sales.manufacturers as mf on i.manufacturer_id = mf.manufacturer_id
left join sales.transaction_items as li on i.item_id = li.item_id
left join sales.transactions as t on li.transaction_id = t.transaction_id
where i.discontinued_at is not null
group by i.item_id, i.name, mf.name, i.discontinued_at
order by i.discontinued_at desc, i.item_id;
