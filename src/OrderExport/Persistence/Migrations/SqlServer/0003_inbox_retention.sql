-- OrderExport schema v3 (SQL Server): the inbox clean-up finds old rows of exported events by age.
CREATE INDEX ix_inbox_exported_handled_at ON inbox_messages (handled_at) WHERE outcome = N'Exported';
