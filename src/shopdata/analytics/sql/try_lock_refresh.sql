-- The refresh lock of lock_refresh.sql, without waiting: true when this session now holds it,
-- false when another refresh does (a scheduled refresh then skips: the running one does the work).
select pg_try_advisory_lock(hashtext('shopdata.analytics.refresh')) as acquired;
