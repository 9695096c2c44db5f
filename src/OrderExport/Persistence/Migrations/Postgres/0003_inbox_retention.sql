-- OrderExport schema v3 (PostgreSQL): the inbox clean-up finds old rows of exported events by age.
-- Not CONCURRENTLY (the migrator runs each script in a transaction): while it builds, inbox writes of
-- instances still running wait, and their consumers retry; on a large inbox, deploy it off-peak.
CREATE INDEX ix_inbox_exported_handled_at ON inbox_messages (handled_at) WHERE outcome = 'Exported';
