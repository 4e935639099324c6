-- Invariant: fct_line_items (incremental) holds exactly the source's line items, but for those
-- of purchases a shop writing during the refresh can have changed since (unsettled_purchases()).
with unsettled as {{ unsettled_purchases() }},

source_rows as (
    select transaction_id, item_id, quantity, unit_price, revenue
    from {{ ref('stg_sales__line_items') }}
    where transaction_id not in (select u.transaction_id from unsettled as u)
),

mart_rows as (
    select transaction_id, item_id, quantity, unit_price, revenue
    from {{ ref('fct_line_items') }}
    where transaction_id not in (select u.transaction_id from unsettled as u)
)

(select 'missing or different in fct_line_items' as problem, * from source_rows
 except select 'missing or different in fct_line_items', * from mart_rows)
union all
(select 'not in the source' as problem, * from mart_rows
 except select 'not in the source', * from source_rows)
