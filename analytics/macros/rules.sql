{#- The business rules, stated once (docs/analytics.md, "Rules"). -#}

{#- A day is a calendar day in UTC, whatever the session's TimeZone. -#}
{% macro utc_day(ts) -%}
    (({{ ts }}) at time zone 'UTC')::date
{%- endmacro %}

{#- A purchase counts (spending, revenue, popularity, baskets) unless it was cancelled:
    pending (paid, not shipped) and completed both count. -#}
{% macro is_counted(status) -%}
    (({{ status }}) <> 'cancelled')
{%- endmacro %}

{#- The rows a run of an incremental mart recomputes: those whose purchase was (re)written into
    fct_purchases by this very run (the same dbt invocation). -#}
{% macro refreshed_now() -%}
    '{{ run_started_at.isoformat() }}'::timestamptz
{%- endmacro %}
