-- After loading rows with explicit ids: make each identity sequence hand out an id after the
-- largest one, so later inserts that rely on the default do not collide. Never backwards: a
-- concurrent online insert may already have taken a higher id than any loaded one, and an id
-- whose row was deleted since must not be handed out again (issue 12). The next value is read
-- from the sequence itself (last_value + is_called): pg_sequence_last_value() is null after
-- setval(..., false), which made the next load reset the sequence to max(id) + 1.

select
    setval(
        pg_get_serial_sequence('sales.manufacturers', 'manufacturer_id'),
        greatest(
            coalesce((select max(m.manufacturer_id) from sales.manufacturers as m), 0) + 1,
            (
                select s.last_value + s.is_called::int
                from sales.manufacturers_manufacturer_id_seq as s
            )
        ),
        false
    ) as next_manufacturer_id,
    setval(
        pg_get_serial_sequence('sales.items', 'item_id'),
        greatest(
            coalesce((select max(i.item_id) from sales.items as i), 0) + 1,
            (select s.last_value + s.is_called::int from sales.items_item_id_seq as s)
        ),
        false
    ) as next_item_id,
    setval(
        pg_get_serial_sequence('sales.transactions', 'transaction_id'),
        greatest(
            coalesce((select max(t.transaction_id) from sales.transactions as t), 0) + 1,
            (
                select s.last_value + s.is_called::int
                from sales.transactions_transaction_id_seq as s
            )
        ),
        false
    ) as next_transaction_id;
