-- Grain: one row per UTC day on which logistics completed (shipped) at least one purchase that
-- counts (a completed purchase with no line shipped nothing).
-- Incremental like agg_daily_sales, on the completion day (of the purchases rewritten since this
-- mart's own last run).
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='day',
        on_schema_change='append_new_columns',
        indexes=[{'columns': ['day'], 'unique': True}],
    )
}}

select
    p.completed_day as day,
    count(*) as purchases_shipped,
    sum(p.units) as units_shipped,
    sum(p.weight_kg) as weight_kg_shipped,
    {{ refreshed_now() }} as refreshed_at
from {{ ref('fct_purchases') }} as p
where
    p.status = 'completed'
    and p.is_counted
    {% if is_incremental() %}
    and p.completed_day in (
        select r.completed_day from {{ ref('fct_purchases') }} as r
        where {{ rewritten_since_last_run_of('r', this) }} and r.completed_day is not null
    )
    {% endif %}
group by p.completed_day
