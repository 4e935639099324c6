-- Delete a purchase once its line items are gone. $1: transaction_id.
delete from sales.transactions
where transaction_id = $1;
