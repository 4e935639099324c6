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

{#- The start of this very run (the same dbt invocation): refreshed_at of every row it writes. -#}
{% macro refreshed_now() -%}
    '{{ run_started_at.isoformat() }}'::timestamptz
{%- endmacro %}

{#- When the incremental model `relation` last wrote rows (the newest refreshed_at it holds;
    -infinity when empty). Each incremental mart catches up from its own last run, not from this
    run's start: a run that stopped after fct_purchases (dbt build skips every model below a
    failed test; a step can be killed) has rewritten purchases that the marts below never saw,
    and the next run must recompute them too. -#}
{% macro last_run_of(relation) -%}
    (select coalesce(max(w.refreshed_at), '-infinity'::timestamptz) from {{ relation }} as w)
{%- endmacro %}

{#- Whether the row of fct_purchases `p` (its alias) was rewritten since the last run of the
    incremental model `relation`, or by this very run (should the clock have stepped back
    between two runs). -#}
{% macro rewritten_since_last_run_of(p, relation) -%}
    ({{ p }}.refreshed_at > {{ last_run_of(relation) }} or {{ p }}.refreshed_at = {{ refreshed_now() }})
{%- endmacro %}

{#- The days (or months) an incremental aggregate recomputes: those of the purchases rewritten
    into fct_purchases since the aggregate's own last run, and those of the purchases deleted
    from the source since then. -#}
{% macro recomputed_keys(column) -%}
    (
        select r.{{ column }} from {{ ref('fct_purchases') }} as r
        where {{ rewritten_since_last_run_of('r', this) }}
        union
        select d.{{ column }} from {{ ref('stg_sales__removed_purchases') }} as d
        where d.removed_at > {{ last_run_of(this) }}
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

{#- Post-hook of fct_purchases: the purchases deleted from the source leave it. -#}
{% macro drop_removed_purchases() -%}
    delete from {{ this }} as f
    where
        f.transaction_id in (
            select d.transaction_id from {{ ref('stg_sales__removed_purchases') }} as d
        )
        and not exists (
            select from {{ ref('stg_sales__purchases') }} as t
            where t.transaction_id = f.transaction_id
        )
{%- endmacro %}

{#- Post-hooks of fct_line_items: delete+insert replaces only the purchases whose lines a run
    emitted, so the old lines of a purchase rewritten since they were written that has no line
    left, and the lines of a purchase deleted from the source (no longer in fct_purchases), would
    stay. Two statements, each a join (an OR of the two would test every line one by one). -#}
{% macro drop_emptied_lines() -%}
    delete from {{ this }} as li
    using {{ ref('fct_purchases') }} as p
    where
        p.transaction_id = li.transaction_id
        and p.line_count = 0
        and p.refreshed_at > li.refreshed_at
{%- endmacro %}

{% macro drop_removed_lines() -%}
    delete from {{ this }} as li
    where
        li.transaction_id in (
            select d.transaction_id from {{ ref('stg_sales__removed_purchases') }} as d
        )
        and not exists (
            select from {{ ref('fct_purchases') }} as p
            where p.transaction_id = li.transaction_id
        )
{%- endmacro %}

{#- The purchases an invariant test leaves out: those a shop writing while dbt runs can have
    changed since fct_purchases read the source (a refresh runs against a live database, and its
    tests read the source again, seconds or minutes later). Only pending purchases change (their
    lines, their status, their deletion) and new ones appear, so: pending in the source or in the
    mart, or newer than the newest the mart holds. Every other purchase is finished, and must be
    in the marts exactly as in the source. One row per purchase and side (source, mart): its
    transaction_id, member_key, created_day, created_month and completed_day. -#}
{% macro unsettled_purchases() -%}
    (
        with unsettled_ids as (
            select s.transaction_id from {{ ref('stg_sales__purchases') }} as s
            where
                s.status = 'pending'
                or s.transaction_id > (
                    select coalesce(max(f.transaction_id), 0) from {{ ref('fct_purchases') }} as f
                )
            union
            select f.transaction_id from {{ ref('fct_purchases') }} as f
            where f.status = 'pending'
        )

        select
            s.transaction_id,
            s.member_key,
            s.created_day,
            date_trunc('month', s.created_day)::date as created_month,
            s.completed_day
        from {{ ref('stg_sales__purchases') }} as s
        where s.transaction_id in (select u.transaction_id from unsettled_ids as u)
        union
        select f.transaction_id, f.member_key, f.created_day, f.created_month, f.completed_day
        from {{ ref('fct_purchases') }} as f
        where f.transaction_id in (select u.transaction_id from unsettled_ids as u)
    )
{%- endmacro %}
