-- 100: the analytics layer's schemas and the role its refresh runs as (docs/analytics.md).
--
-- The dbt project under analytics/ builds views in `staging` and tables in `marts`. It runs as
-- analytics_refresh (the connecting owner does SET ROLE), which owns both schemas and reads
-- only what the models need: no name, contact data or birthday. It reads membership_id, to
-- join purchases to members, and writes member_key only. Analysts read `marts` and nothing of
-- `staging`; dbt grants them SELECT on each mart it builds (the `grants` config). Idempotent.

do $roles$
begin
    if not exists (select from pg_catalog.pg_roles where rolname = 'analytics_refresh') then
        create role analytics_refresh nologin nosuperuser nocreatedb nocreaterole
        noreplication nobypassrls;
    end if;
end
$roles$;

comment on role analytics_refresh is
'Runs the dbt refresh of the staging and marts schemas (SET ROLE by the database owner). '
'See docs/analytics.md.';

-- The owner connects and switches to it (PostgreSQL 16+: a plain member may SET ROLE).
grant analytics_refresh to current_user;

-- dbt's incremental models stage their new rows in temporary tables.
do $database$
begin
    execute format(
        'grant connect, temporary on database %I to analytics_refresh', current_database()
    );
end
$database$;

create schema if not exists staging authorization analytics_refresh;
create schema if not exists marts authorization analytics_refresh;
comment on schema staging is
'dbt staging views over sales.* (the business rules, stated once). Refresh role only.';
comment on schema marts is
'dbt marts: purchases, line items, members, items and daily / monthly aggregates, without '
'personal data. Read by the analytics team; built by analytics_refresh.';
revoke all on schema staging from public;
revoke all on schema marts from public;
grant usage on schema marts to analytics;

-- What the models read (sales.*: column grants, as for the teams in 090_roles.sql).
grant usage on schema sales to analytics_refresh;
grant select (membership_id, member_key, status, status_changed_at, joined_at, above_18)
on sales.members to analytics_refresh;
grant select (
    transaction_id, membership_id, status, created_at, completed_at, cancelled_at,
    total_price, total_weight_kg, total_quantity
)
on sales.transactions to analytics_refresh;
grant select on sales.transaction_items, sales.items, sales.manufacturers to analytics_refresh;
-- The trigger-kept summaries, for the dbt test that the marts agree with them.
grant select on sales.member_spending, sales.item_sales, sales.summary_deltas
to analytics_refresh;

-- Row-level security on transactions: the refresh reads every row, writes none.
drop policy if exists transactions_analytics_refresh_read on sales.transactions;
create policy transactions_analytics_refresh_read on sales.transactions
for select to analytics_refresh
using (true);
