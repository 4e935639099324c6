{#- The business rules, stated once (docs/analytics.md, "Rules"). -#}

{#- A day is a calendar day in UTC, whatever the session's TimeZone. -#}
{% macro utc_day(ts) -%}
    (({{ ts }}) at time zone 'UTC')::date
{%- endmacro %}

{#- A purchase counts (spending, revenue, popularity, baskets, backlog, first purchase) unless
    it was cancelled or holds no line item: pending (paid, not shipped) and completed both count.
    A purchase with no line is a basket never filled (the checkout writes the transaction before
    its lines, and an abandoned one stays empty): no purchase until a line arrives. -#}
{% macro is_counted(status, has_lines) -%}
    (({{ status }}) <> 'cancelled' and ({{ has_lines }}))
{%- endmacro %}

{#- Whether the purchase `transaction_id` holds at least one line item. -#}
{% macro has_lines(transaction_id) -%}
    exists (
        select from {{ source('sales', 'transaction_items') }} as li
        where li.transaction_id = {{ transaction_id }}
    )
{%- endmacro %}

{#- The rows a run of an incremental mart recomputes: those whose purchase was (re)written into
    fct_purchases by this very run (the same dbt invocation). -#}
{% macro refreshed_now() -%}
    '{{ run_started_at.isoformat() }}'::timestamptz
{%- endmacro %}

{#- The days (or months) an incremental aggregate recomputes: those of the purchases this run
    rewrote, and those of the purchases deleted from the source since the last run. -#}
{% macro recomputed_keys(column) -%}
    (
        select r.{{ column }} from {{ ref('fct_purchases') }} as r
        where r.refreshed_at = {{ refreshed_now() }}
        union
        select d.{{ column }} from {{ ref('stg_sales__removed_purchases') }} as d
    )
{%- endmacro %}

{#- Post-hook of an aggregate keyed by `key` (its column) computed from fct_purchases'
    `column`: a day or month whose every purchase was deleted produces no row, so delete+insert
    would keep its old one; delete it. -#}
{% macro drop_emptied_keys(key, column) -%}
    delete from {{ this }} as a
    where
        a.{{ key }} in (select d.{{ column }} from {{ ref('stg_sales__removed_purchases') }} as d)
        and not exists (
            select from {{ ref('fct_purchases') }} as p where p.{{ column }} = a.{{ key }}
        )
{%- endmacro %}

{#- Post-hook of fct_line_items: delete+insert replaces only the purchases whose lines this run
    emitted, so the lines of a purchase deleted from the source, and the old lines of a
    rewritten purchase that has no line left, would stay. -#}
{% macro drop_stale_lines() -%}
    delete from {{ this }} as li
    where
        li.transaction_id in (
            select d.transaction_id from {{ ref('stg_sales__removed_purchases') }} as d
        )
        or (
            li.refreshed_at <> {{ refreshed_now() }}
            and li.transaction_id in (
                select r.transaction_id from {{ ref('fct_purchases') }} as r
                where r.refreshed_at = {{ refreshed_now() }}
            )
        )
{%- endmacro %}
