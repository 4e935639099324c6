-- Whether each (role, relation, column or whole table, privilege) is granted, as the catalog
-- says (membership and PUBLIC included). One row per question, in the order asked.
select
    q.ord,
    case
        when q.column_name is null then has_table_privilege(q.role, q.relation, q.privilege)
        else has_column_privilege(q.role, q.relation, q.column_name, q.privilege)
    end as granted
from unnest(
    %(roles)s::text[], %(relations)s::text[], %(columns)s::text[], %(privileges)s::text[]
) with ordinality as q (role, relation, column_name, privilege, ord)
order by q.ord
