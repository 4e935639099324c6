-- seed: how many transactions exist already (seed only fills an empty sales history) and the
-- next free ids, so generated rows never collide with loaded ones.

select
    (select count(*) from sales.transactions) as existing_transactions,
    (select coalesce(max(m.manufacturer_id), 0) + 1 from sales.manufacturers as m)
        as next_manufacturer_id,
    (select coalesce(max(i.item_id), 0) + 1 from sales.items as i) as next_item_id,
    (select coalesce(max(t.transaction_id), 0) + 1 from sales.transactions as t)
        as next_transaction_id;
