-- The dispatchers' shared rate limiters (N11): one instant per name (the generic cell rate
-- algorithm's theoretical arrival time), read and written under a row lock by whichever
-- dispatcher sends next. NULL: created, never used.
CREATE TABLE limiters (
    name text PRIMARY KEY,
    state timestamptz
);
