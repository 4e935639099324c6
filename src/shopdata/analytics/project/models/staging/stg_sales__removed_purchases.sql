-- Purchases the marts hold that the source no longer has: pending purchases deleted since the
-- last refresh (only pending purchases can be deleted). The delete+insert of the incremental
-- marts only replaces keys a run emits, so without this list a deleted purchase stayed in
-- fct_purchases, its lines in fct_line_items, and it kept counting in the daily and monthly
-- aggregates. fct_purchases and fct_line_items delete these rows (post-hooks) and the
-- aggregates recompute their days and months. A table, built before fct_purchases: it reads the
-- previous run's fct_purchases by name (a ref would be a cycle); empty on the first run.
{{ config(materialized='table') }}

-- depends_on: {{ source('sales', 'transactions') }}

{%- set previous = adapter.get_relation(
    database=target.database, schema='marts', identifier='fct_purchases'
) %}

{% if previous is not none %}
select
    f.transaction_id,
    f.created_day,
    f.created_month
from {{ previous }} as f
where
    f.status = 'pending'
    and not exists (
        select from {{ source('sales', 'transactions') }} as t
        where t.transaction_id = f.transaction_id
    )
{% else %}
select
    null::bigint as transaction_id,
    null::date as created_day,
    null::date as created_month
where false
{% endif %}
