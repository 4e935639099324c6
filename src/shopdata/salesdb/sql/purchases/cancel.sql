-- Cancel a pending purchase (the caller holds its lock). $1: transaction_id.
update sales.transactions
set status = 'cancelled', cancelled_at = now()
where transaction_id = $1;
