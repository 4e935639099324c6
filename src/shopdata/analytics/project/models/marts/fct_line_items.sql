-- Grain: one row per line item (transaction, item), every status, with what analysts group by
-- (member, manufacturer, day, month) copied on. Rewritten per purchase: those fct_purchases
-- rewrote since this mart's own last run (refreshed_at, copied from the purchase).
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='transaction_id',
        post_hook=["{{ drop_emptied_lines() }}", "{{ drop_removed_lines() }}"],
        on_schema_change='append_new_columns',
        indexes=[
            {'columns': ['transaction_id', 'item_id'], 'unique': True},
            {'columns': ['created_month']},
            {'columns': ['item_id']},
        ],
    )
}}

-- depends_on: {{ ref('stg_sales__removed_purchases') }}

select
    li.transaction_id,
    li.item_id,
    i.manufacturer_id,
    p.member_key,
    p.status,
    p.is_counted,
    p.created_day,
    p.created_month,
    li.quantity,
    li.unit_price,
    li.revenue,
    li.weight_kg,
    p.refreshed_at
from {{ ref('fct_purchases') }} as p
inner join {{ ref('stg_sales__line_items') }} as li on p.transaction_id = li.transaction_id
inner join {{ ref('stg_sales__items') }} as i on li.item_id = i.item_id
{% if is_incremental() %}
where {{ rewritten_since_last_run_of('p', this) }}
{% endif %}
