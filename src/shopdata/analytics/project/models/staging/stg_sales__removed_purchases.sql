-- Purchases the marts hold that the source no longer has: pending purchases deleted since the
-- last refresh (only pending purchases can be deleted). The delete+insert of the incremental
-- marts only replaces keys a run emits, so without this list a deleted purchase stayed in
-- fct_purchases, its lines in fct_line_items, and it kept counting in the daily and monthly
-- aggregates. fct_purchases and fct_line_items delete these rows (post-hooks) and the
-- aggregates recompute the days and months of those removed after their own last run.
-- A table, built before fct_purchases: it reads the previous run's fct_purchases, and its own
-- previous rows, by name (a ref would be a cycle); empty on the first run. removed_at is the
-- run that found the purchase gone. A row is kept until every mart that recomputes from it has
-- run since (a run that stopped after fct_purchases, or a dbt build whose tests skipped the marts
-- below, must not forget a deletion: fct_purchases no longer holds the purchase to find it again).
{{ config(materialized='table') }}

-- depends_on: {{ source('sales', 'transactions') }}

{%- set previous = adapter.get_relation(
    database=target.database, schema='marts', identifier='fct_purchases'
) %}
{%- set own = adapter.get_relation(
    database=target.database, schema=this.schema, identifier=this.identifier
) %}
{%- set kept = own is not none
    and 'removed_at' in (adapter.get_columns_in_relation(own) | map(attribute='name') | list) %}
{%- set consumers = [] %}
{%- for name in ['fct_line_items', 'agg_daily_sales', 'agg_daily_basket_sizes',
                 'agg_monthly_item_sales'] %}
    {%- set relation = adapter.get_relation(
        database=target.database, schema='marts', identifier=name
    ) %}
    {%- if relation is not none and 'refreshed_at' in (
        adapter.get_columns_in_relation(relation) | map(attribute='name') | list
    ) %}{% do consumers.append(relation) %}{% endif %}
{%- endfor %}

{% if previous is not none %}
select
    f.transaction_id,
    f.created_day,
    f.created_month,
    {{ refreshed_now() }} as removed_at
from {{ previous }} as f
where
    f.status = 'pending'
    and not exists (
        select from {{ source('sales', 'transactions') }} as t
        where t.transaction_id = f.transaction_id
    )
    {% if kept %}
    and not exists (select from {{ own }} as o where o.transaction_id = f.transaction_id)
    {% endif %}
{% if kept %}
union all
select
    o.transaction_id,
    o.created_day,
    o.created_month,
    o.removed_at
from {{ own }} as o
{#- Until each of them has run (and has refreshed_at): every row is kept. #}
{% if consumers | length == 4 %}
where
    {% for relation in consumers %}
    o.removed_at > {{ last_run_of(relation) }}{% if not loop.last %} or{% endif %}
    {% endfor %}
{% endif %}
{% endif %}
{% else %}
select
    null::bigint as transaction_id,
    null::date as created_day,
    null::date as created_month,
    null::timestamptz as removed_at
where false
{% endif %}
