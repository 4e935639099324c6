-- Items never sold.
--
-- Catalogue items without a single purchase that counts (an item only ever in cancelled
-- purchases was never sold), discontinued or not, by item_id. Reads marts.dim_items.

select
    d.item_id,
    d.item_name,
    d.manufacturer_name,
    d.listed_at,
    d.discontinued_at
from marts.dim_items as d
where d.purchase_count = 0
order by d.item_id;
