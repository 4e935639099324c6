-- After loading rows with explicit ids: make each identity sequence hand out an id after the
-- largest one, so later inserts that rely on the default do not collide. Never backwards: a
-- concurrent online insert may already have taken a higher id than any loaded one (issue 12).

select
    setval(
        pg_get_serial_sequence('sales.manufacturers', 'manufacturer_id'),
        greatest(
            coalesce((select max(m.manufacturer_id) from sales.manufacturers as m), 0) + 1,
            coalesce(
                pg_sequence_last_value(
                    pg_get_serial_sequence('sales.manufacturers', 'manufacturer_id')::regclass
                ) + 1,
                1
            )
        ),
        false
    ) as next_manufacturer_id,
    setval(
        pg_get_serial_sequence('sales.items', 'item_id'),
        greatest(
            coalesce((select max(i.item_id) from sales.items as i), 0) + 1,
            coalesce(
                pg_sequence_last_value(
                    pg_get_serial_sequence('sales.items', 'item_id')::regclass
                ) + 1,
                1
            )
        ),
        false
    ) as next_item_id,
    setval(
        pg_get_serial_sequence('sales.transactions', 'transaction_id'),
        greatest(
            coalesce((select max(t.transaction_id) from sales.transactions as t), 0) + 1,
            coalesce(
                pg_sequence_last_value(
                    pg_get_serial_sequence('sales.transactions', 'transaction_id')::regclass
                ) + 1,
                1
            )
        ),
        false
    ) as next_transaction_id;
