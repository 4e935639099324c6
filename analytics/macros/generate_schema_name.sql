{#- Schemas are named exactly as configured (staging, marts): the access design grants on them
    by name, so dbt's default "<target>_<custom>" prefix is not wanted. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}{{ target.schema }}{%- else -%}{{ custom_schema_name | trim }}{%- endif -%}
{%- endmacro %}
