-- The catalogue, one row per item, with its manufacturer's name.
select
    i.item_id,
    i.name as item_name,
    i.manufacturer_id,
    mf.name as manufacturer_name,
    i.cost as current_price,
    i.weight_kg,
    i.listed_at,
    i.discontinued_at
from {{ source('sales', 'items') }} as i
inner join {{ source('sales', 'manufacturers') }} as mf on i.manufacturer_id = mf.manufacturer_id
