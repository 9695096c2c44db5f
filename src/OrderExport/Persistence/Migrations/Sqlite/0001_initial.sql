-- OrderExport schema v1 (SQLite, the zero-set-up default): orders and the transactional outbox.
-- Types follow EF Core's SQLite mapping: uuid, decimal and timestamps are TEXT.

CREATE TABLE orders (
    id              TEXT    NOT NULL PRIMARY KEY,
    customer_id     TEXT    NOT NULL,
    amount          TEXT    NOT NULL,
    currency        TEXT    NOT NULL,
    status          TEXT    NOT NULL,
    export_status   TEXT    NOT NULL,
    export_sequence INTEGER NOT NULL DEFAULT 0,
    created_at      TEXT    NOT NULL,
    confirmed_at    TEXT    NULL,
    version         INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE outbox_messages (
    id              INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    event_id        TEXT    NOT NULL UNIQUE,
    order_id        TEXT    NOT NULL,
    event_type      TEXT    NOT NULL,
    schema_version  INTEGER NOT NULL,
    occurred_at     TEXT    NOT NULL,
    payload         TEXT    NOT NULL,
    trace_parent    TEXT    NULL,
    trace_state     TEXT    NULL,
    created_at      TEXT    NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT    NULL,
    next_attempt_at TEXT    NULL,
    published_at    TEXT    NULL
);

CREATE INDEX ix_outbox_unpublished ON outbox_messages (id) WHERE published_at IS NULL;
CREATE INDEX ix_outbox_unpublished_by_order ON outbox_messages (order_id, id) WHERE published_at IS NULL;
CREATE INDEX ix_outbox_published_at ON outbox_messages (published_at) WHERE published_at IS NOT NULL;
