-- Invariant: fct_purchases (incremental) holds exactly the source's purchases, with the same
-- status, revenue, units and weight. Any row returned is a difference. Purchases a shop writing
-- during the refresh can have changed since are left out (unsettled_purchases(), rules.sql).
with unsettled as {{ unsettled_purchases() }},

source_rows as (
    select transaction_id, member_key, status, revenue, units, weight_kg
    from {{ ref('stg_sales__purchases') }}
    where transaction_id not in (select u.transaction_id from unsettled as u)
),

mart_rows as (
    select transaction_id, member_key, status, revenue, units, weight_kg
    from {{ ref('fct_purchases') }}
    where transaction_id not in (select u.transaction_id from unsettled as u)
)

(select 'missing or different in fct_purchases' as problem, * from source_rows
 except select 'missing or different in fct_purchases', * from mart_rows)
union all
(select 'not in the source' as problem, * from mart_rows
 except select 'not in the source', * from source_rows)
