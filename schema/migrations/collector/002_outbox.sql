-- Version 2: the outbox.  Each finalized revision waits here until it is
-- sealed into a batch (issue 3 fills batch_seq); status filters in
-- `beatbook list` get an index.
ALTER TABLE revisions ADD COLUMN batch_seq INTEGER;
CREATE INDEX revisions_unsent ON revisions (seq) WHERE batch_seq IS NULL;
CREATE INDEX records_by_status ON records (status, occurred_unix);
