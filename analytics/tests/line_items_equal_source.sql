-- Invariant: fct_line_items (incremental) holds exactly the source's line items.
with source_rows as (
    select transaction_id, item_id, quantity, unit_price, revenue
    from {{ ref('stg_sales__line_items') }}
),

mart_rows as (
    select transaction_id, item_id, quantity, unit_price, revenue
    from {{ ref('fct_line_items') }}
)

(select 'missing or different in fct_line_items' as problem, * from source_rows
 except select 'missing or different in fct_line_items', * from mart_rows)
union all
(select 'not in the source' as problem, * from mart_rows
 except select 'not in the source', * from source_rows)
