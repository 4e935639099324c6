-- Hand-built sales for the analytics tests, dated relative to now() so that "last month",
-- "the last 30 / 90 days" and the backlog's ages always hold rows. What each row is for:
-- ties in the top items (kettle and mug, 5 purchases each), a cancelled purchase that would
-- change top items, revenue and a member's spending, an item sold only in a cancelled purchase
-- (never sold), a discontinued item sold before and one never sold, a price change after sales
-- (past lines keep 20.00), churned members of every status, a member who never bought, pending
-- purchases of every backlog age, shipments inside and outside the last 30 days, and a pending
-- purchase with no line item (14: a basket never filled, so Eve has still never bought).
insert into sales.members (
    membership_id, first_name, last_name, email, mobile_no, date_of_birth, above_18, joined_at,
    status_changed_at
) values
('Ang_00001', 'Alice', 'Ang', 'alice@ang.com', '81000001', '1980-01-01', true, now() - interval '200 days', now() - interval '200 days'),
('Bala_00002', 'Bob', 'Bala', 'bob@bala.com', '81000002', '1981-02-02', true, now() - interval '200 days', now() - interval '200 days'),
('Chan_00003', 'Cara', 'Chan', 'cara@chan.net', '81000003', '1982-03-03', true, now() - interval '100 days', now() - interval '100 days'),
('Das_00004', 'Dev', 'Das', 'dev@das.com', '81000004', '1983-04-04', true, now() - interval '70 days', now() - interval '70 days'),
('Eng_00005', 'Eve', 'Eng', 'eve@eng.com', '81000005', '1984-05-05', true, now() - interval '5 days', now() - interval '5 days'),
('Foo_00006', 'Fay', 'Foo', 'fay@foo.net', '81000006', '1985-06-06', true, now() - interval '300 days', now() - interval '300 days'),
('Goh_00007', 'Gus', 'Goh', 'gus@goh.com', '81000007', '1986-07-07', true, now() - interval '400 days', now() - interval '400 days'),
('Ho_00008', 'Hana', 'Ho', 'hana@ho.com', '81000008', '1987-08-08', false, date_trunc('month', now()) - interval '1 month' + interval '1 day', date_trunc('month', now()) - interval '1 month' + interval '1 day');

update sales.members set status = 'suspended', status_changed_at = now()
where membership_id = 'Foo_00006';
update sales.members set status = 'closed', status_changed_at = now()
where membership_id = 'Goh_00007';

insert into sales.manufacturers (manufacturer_id, name) values
(1, 'Acme'), (2, 'Globex'), (3, 'Initech'), (4, 'Hooli');

insert into sales.items (item_id, manufacturer_id, name, cost, weight_kg, listed_at) values
(1, 1, 'Kettle', 20.00, 1.500, now() - interval '500 days'),
(2, 1, 'Toaster', 35.00, 2.000, now() - interval '500 days'),
(3, 2, 'Mug', 5.00, 0.300, now() - interval '500 days'),
(4, 2, 'Teapot', 15.00, 0.800, now() - interval '500 days'),
(5, 2, 'Spoon', 1.00, 0.050, now() - interval '500 days'),
(6, 3, 'Whisk', 3.00, 0.100, now() - interval '500 days'),
(7, 3, 'Pan', 40.00, 1.200, now() - interval '500 days'),
(8, 3, 'Lamp', 12.00, 0.700, now() - interval '500 days'),
(9, 4, 'Phone', 300.00, 0.200, now() - interval '500 days');

insert into sales.transactions (transaction_id, membership_id, created_at) values
(1, 'Ang_00001', now() - interval '190 days'),
(2, 'Ang_00001', now() - interval '100 days'),
(3, 'Bala_00002', now() - interval '150 days'),
(4, 'Chan_00003', date_trunc('month', now()) - interval '1 month' + interval '10 days'),
(5, 'Chan_00003', date_trunc('month', now()) - interval '1 month' + interval '12 days'),
(6, 'Das_00004', date_trunc('month', now()) - interval '1 month' + interval '3 days'),
(7, 'Foo_00006', now() - interval '120 days'),
(8, 'Goh_00007', now() - interval '95 days'),
(9, 'Ho_00008', now() - interval '10 days'),
(10, 'Das_00004', now() - interval '1 day'),
(11, 'Bala_00002', now() - interval '5 days'),
(12, 'Das_00004', now() - interval '40 days'),
(13, 'Bala_00002', now() - interval '20 days'),
(14, 'Eng_00005', now() - interval '3 days');

insert into sales.transaction_items (
    transaction_id, item_id, quantity, unit_price, unit_weight_kg
) values
(1, 1, 2, 20.00, 1.500), (1, 3, 3, 5.00, 0.300),
(2, 2, 1, 35.00, 2.000),
(3, 1, 1, 20.00, 1.500), (3, 7, 1, 40.00, 1.200),
(4, 1, 3, 20.00, 1.500), (4, 4, 2, 15.00, 0.800), (4, 3, 1, 5.00, 0.300),
(5, 2, 2, 35.00, 2.000),
(6, 4, 4, 15.00, 0.800),
(7, 3, 10, 5.00, 0.300),
(8, 7, 2, 40.00, 1.200),
(9, 1, 1, 25.00, 1.500),
(10, 3, 2, 5.00, 0.300),
(11, 6, 1, 3.00, 0.100),
(12, 4, 1, 15.00, 0.800), (12, 3, 1, 5.00, 0.300),
(13, 1, 2, 20.00, 1.500);

-- Shipped two days after purchase, except 13 (five days) and the pending 9, 10, 12.
update sales.transactions set status = 'completed', completed_at = created_at + interval '2 days'
where transaction_id in (1, 2, 3, 4, 6, 7, 8);
update sales.transactions set status = 'completed', completed_at = created_at + interval '5 days'
where transaction_id = 13;
update sales.transactions set status = 'cancelled', cancelled_at = created_at + interval '1 hour'
where transaction_id in (5, 11);

-- The kettle gets dearer (transaction 9 paid 25.00; the others keep 20.00); pan and lamp are
-- removed from sale.
update sales.items set cost = 25.00 where item_id = 1;
update sales.items set discontinued_at = now() where item_id in (7, 8);
