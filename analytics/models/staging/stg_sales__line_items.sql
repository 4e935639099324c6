-- One row per (transaction, item). Revenue is at the price charged (unit_price copied at the
-- time of sale), never the item's current cost.
select
    li.transaction_id,
    li.item_id,
    li.quantity,
    li.unit_price,
    li.quantity * li.unit_price as revenue,
    li.quantity * li.unit_weight_kg as weight_kg
from {{ source('sales', 'transaction_items') }} as li
