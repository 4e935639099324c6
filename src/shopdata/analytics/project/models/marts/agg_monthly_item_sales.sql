-- depends_on: {{ ref('fct_purchases') }}
-- Grain: one row per (calendar month, item) with at least one line item that month (any
-- status). purchase_count / units_sold / revenue count the purchases that count.
-- Incremental: the months of the purchases rewritten (or deleted) since this mart's own last run
-- are recomputed, each in full.
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='month',
        post_hook="{{ drop_emptied_keys('month', 'created_month') }}",
        on_schema_change='append_new_columns',
        indexes=[{'columns': ['month', 'item_id'], 'unique': True}, {'columns': ['item_id']}],
    )
}}

-- depends_on: {{ ref('stg_sales__removed_purchases') }}

select
    li.created_month as month,
    li.item_id,
    count(*) filter (where li.is_counted) as purchase_count,
    coalesce(sum(li.quantity) filter (where li.is_counted), 0) as units_sold,
    coalesce(sum(li.revenue) filter (where li.is_counted), 0) as revenue,
    min(li.created_day) filter (where li.is_counted) as first_sold_day,
    max(li.created_day) filter (where li.is_counted) as last_sold_day,
    {{ refreshed_now() }} as refreshed_at
from {{ ref('fct_line_items') }} as li
{% if is_incremental() %}
where li.created_month in {{ recomputed_keys('created_month') }}
{% endif %}
group by li.created_month, li.item_id
