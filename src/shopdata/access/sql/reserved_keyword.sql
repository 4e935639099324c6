-- Whether a name is an SQL keyword other than an unreserved one, as the server knows them
-- (a login role of that name would need quoting everywhere, or mean something else).
select catdesc from pg_catalog.pg_get_keywords() where word = %(name)s and catcode <> 'U'
