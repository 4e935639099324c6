-- Reference: items without a line item in a purchase that was not cancelled.
select i.item_id, i.name, mf.name, i.listed_at, i.discontinued_at
from sales.items as i
inner join sales.manufacturers as mf on i.manufacturer_id = mf.manufacturer_id
where not exists (
    select from sales.transaction_items as li
    inner join sales.transactions as t on li.transaction_id = t.transaction_id
    where li.item_id = i.item_id and t.status <> 'cancelled'
)
order by i.item_id;
