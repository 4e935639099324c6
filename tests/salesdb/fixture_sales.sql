-- Hand-built sales with known answers (see test_analyst_queries.py for the expected rows).
-- Ties at both cut-offs, a cancelled purchase that would change both answers, a pending one
-- that counts, and a price change after sales (past lines keep the old price).
insert into sales.members (membership_id, first_name, last_name, email, mobile_no, date_of_birth, above_18) values
('Ang_00001', 'Alice', 'Ang', 'alice@ang.com', '81000001', '1980-01-01', true),
('Bala_00002', 'Bob', 'Bala', 'bob@bala.com', '81000002', '1981-02-02', true),
('Chan_00003', 'Cara', 'Chan', 'cara@chan.net', '81000003', '1982-03-03', true),
('Das_00004', 'Dev', 'Das', 'dev@das.com', '81000004', '1983-04-04', true),
('Eng_00005', 'Eve', 'Eng', 'eve@eng.com', '81000005', '1984-05-05', true),
('Foo_00006', 'Fay', 'Foo', 'fay@foo.net', '81000006', '1985-06-06', true),
('Goh_00007', 'Gus', 'Goh', 'gus@goh.com', '81000007', '1986-07-07', true),
('Ho_00008', 'Hana', 'Ho', 'hana@ho.com', '81000008', '1987-08-08', true),
('Ito_00009', 'Ivan', 'Ito', 'ivan@ito.com', '81000009', '1988-09-09', true),
('Jin_0000a', 'Jo', 'Jin', 'jo@jin.com', '81000010', '1989-10-10', true),
('Koh_0000b', 'Kim', 'Koh', 'kim@koh.com', '81000011', '1990-11-11', true),
('Lim_0000c', 'Lee', 'Lim', 'lee@lim.com', '81000012', '1991-12-12', true);

insert into sales.manufacturers (manufacturer_id, name) values (1, 'Acme'), (2, 'Globex');

insert into sales.items (item_id, manufacturer_id, name, cost, weight_kg, listed_at) values
(1, 1, 'Kettle', 20.00, 1.500, '2023-01-01'),
(2, 1, 'Toaster', 35.00, 2.000, '2023-01-01'),
(3, 2, 'Mug', 5.00, 0.300, '2023-01-01'),
(4, 2, 'Teapot', 15.00, 0.800, '2023-01-01'),
(5, 2, 'Spoon', 1.00, 0.050, '2023-01-01');

insert into sales.transactions (transaction_id, membership_id, created_at) values
(1, 'Ang_00001', '2024-01-01 10:00+00'),
(2, 'Bala_00002', '2024-01-02 10:00+00'),
(3, 'Chan_00003', '2024-01-03 10:00+00'),
(4, 'Das_00004', '2024-01-04 10:00+00'),
(5, 'Eng_00005', '2024-01-05 10:00+00'),
(6, 'Foo_00006', '2024-01-06 10:00+00'),
(7, 'Goh_00007', '2024-01-07 10:00+00'),
(8, 'Ho_00008', '2024-01-08 10:00+00'),
(9, 'Ito_00009', '2024-01-09 10:00+00'),
(10, 'Jin_0000a', '2024-01-10 10:00+00'),
(11, 'Koh_0000b', '2024-01-11 10:00+00'),
(12, 'Lim_0000c', '2024-01-12 10:00+00'),
(13, 'Lim_0000c', '2024-01-13 10:00+00');

insert into sales.transaction_items (transaction_id, item_id, quantity, unit_price, unit_weight_kg) values
(1, 1, 10, 20.00, 1.500),
(2, 2, 5, 35.00, 2.000),
(3, 3, 30, 5.00, 0.300),
(4, 4, 8, 15.00, 0.800),
(5, 1, 5, 20.00, 1.500),
(6, 4, 4, 15.00, 0.800),
(6, 3, 6, 5.00, 0.300),
(7, 1, 4, 20.00, 1.500),
(8, 2, 2, 35.00, 2.000),
(9, 1, 3, 20.00, 1.500),
(10, 3, 10, 5.00, 0.300),
(11, 5, 50, 1.00, 0.050),
(12, 1, 2, 20.00, 1.500),
(13, 2, 100, 35.00, 2.000),
(13, 3, 1, 5.00, 0.300);

-- Logistics completes all but transaction 3 (still pending); transaction 13 is cancelled.
update sales.transactions set status = 'completed', completed_at = created_at + interval '2 days'
where transaction_id not in (3, 13);
update sales.transactions set status = 'cancelled', cancelled_at = created_at + interval '1 hour'
where transaction_id = 13;

-- The kettle gets dearer; an old purchase keeps 20.00, a new one pays 25.00.
update sales.items set cost = 25.00 where item_id = 1;
insert into sales.transactions (transaction_id, membership_id, status, created_at, completed_at)
values (14, 'Ito_00009', 'completed', '2024-02-05 10:00+00', '2024-02-06 10:00+00');
insert into sales.transaction_items (transaction_id, item_id, quantity, unit_price, unit_weight_kg)
values (14, 1, 1, 25.00, 1.500);
