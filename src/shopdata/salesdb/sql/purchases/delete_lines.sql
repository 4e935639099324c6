-- Delete a purchase's line items (the caller holds the purchase's lock, FOR UPDATE).
-- $1: transaction_id.
delete from sales.transaction_items
where transaction_id = $1;
