-- One dbt run at a time per database: a session-level advisory lock, held by the process that
-- starts dbt for the whole run and released when its connection closes. Two concurrent
-- refreshes of the incremental marts interleave their delete+insert and their refreshed_at
-- bookkeeping and leave line items without their purchase; the second refresh waits.
select pg_advisory_lock(hashtext('shopdata.analytics.refresh'));
