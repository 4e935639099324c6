-- One line item of a purchase (the line trigger locks the purchase, checks it and moves its
-- totals). $1 transaction_id, $2 item_id, $3 quantity, $4 unit_price, $5 unit_weight_kg.
insert into sales.transaction_items (
    transaction_id, item_id, quantity, unit_price, unit_weight_kg
)
values ($1, $2, $3, $4, $5);
