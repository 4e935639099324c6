-- Set one line's quantity (the caller holds the purchase's lock).
-- $1 quantity, $2 transaction_id, $3 item_id.
update sales.transaction_items
set quantity = $1
where transaction_id = $2 and item_id = $3;
