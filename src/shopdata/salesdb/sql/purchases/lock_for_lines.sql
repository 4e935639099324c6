-- Lock a purchase before touching its line items (lock order: purchase first; see
-- docs/salesdb.md, "Concurrency"); returns its status, no row when it is gone.
-- $1: transaction_id.
select t.status
from sales.transactions as t
where t.transaction_id = $1
for no key update;
