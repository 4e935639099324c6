-- One roll-up of the summary deltas (shopdata db roll-up): how many delta rows it moved.
select sales.roll_up_summaries() as moved;
