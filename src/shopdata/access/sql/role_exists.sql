-- Whether a role (user or team) of this name exists in the cluster.
select exists (select from pg_catalog.pg_roles where rolname = %(name)s)
