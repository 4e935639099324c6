-- Lock a purchase before deleting it with its line items; returns its status, no row when
-- it is gone. $1: transaction_id.
select t.status
from sales.transactions as t
where t.transaction_id = $1
for update;
