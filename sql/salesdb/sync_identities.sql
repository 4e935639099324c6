-- After loading rows with explicit ids: make each identity sequence hand out the id after the
-- largest one, so later inserts that rely on the default do not collide.

select
    setval(
        pg_get_serial_sequence('sales.manufacturers', 'manufacturer_id'),
        coalesce((select max(m.manufacturer_id) from sales.manufacturers as m), 0) + 1,
        false
    ) as next_manufacturer_id,
    setval(
        pg_get_serial_sequence('sales.items', 'item_id'),
        coalesce((select max(i.item_id) from sales.items as i), 0) + 1,
        false
    ) as next_item_id,
    setval(
        pg_get_serial_sequence('sales.transactions', 'transaction_id'),
        coalesce((select max(t.transaction_id) from sales.transactions as t), 0) + 1,
        false
    ) as next_transaction_id;
