-- Room on every page of the tables written on each fact, so that an update that moves no
-- indexed column (a participant's facts and version; a progress row whose status and
-- assignee stay) can keep the new version of the row on its page and write no index entry
-- (a heap-only update). Pages written from now on keep a fifth free; a table migrated
-- with rows in it gains the room as its pages are rewritten.
ALTER TABLE participants SET (fillfactor = 80);
ALTER TABLE progress SET (fillfactor = 80);
