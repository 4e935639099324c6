-- Invariant: fct_purchases (incremental) holds exactly the source's purchases, with the same
-- status, revenue, units and weight. Any row returned is a difference.
with source_rows as (
    select transaction_id, member_key, status, revenue, units, weight_kg
    from {{ ref('stg_sales__purchases') }}
),

mart_rows as (
    select transaction_id, member_key, status, revenue, units, weight_kg
    from {{ ref('fct_purchases') }}
)

(select 'missing or different in fct_purchases' as problem, * from source_rows
 except select 'missing or different in fct_purchases', * from mart_rows)
union all
(select 'not in the source' as problem, * from mart_rows
 except select 'not in the source', * from source_rows)
