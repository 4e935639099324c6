-- Mark a pending purchase completed (the caller holds its lock); a purchase with no line
-- item is no purchase and cannot be completed. $1: transaction_id.
update sales.transactions
set status = 'completed', completed_at = now()
where transaction_id = $1 and total_quantity > 0;
