-- OrderExport schema v2 (SQLite): the consumer's inbox, dead letters and parked events.

CREATE TABLE inbox_messages (
    event_id   TEXT NOT NULL PRIMARY KEY,
    order_id   TEXT NOT NULL,
    outcome    TEXT NOT NULL,
    handled_at TEXT NOT NULL
);

CREATE TABLE dead_letters (
    id               INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    event_id         TEXT    NULL,
    order_id         TEXT    NULL,
    message_key      TEXT    NULL,
    topic            TEXT    NOT NULL,
    partition        INTEGER NOT NULL,
    "offset"         INTEGER NOT NULL,
    error_type       TEXT    NOT NULL,
    error_message    TEXT    NOT NULL,
    attempts         INTEGER NOT NULL,
    first_failure_at TEXT    NOT NULL,
    last_failure_at  TEXT    NOT NULL,
    payload          TEXT    NOT NULL,
    status           TEXT    NOT NULL,
    created_at       TEXT    NOT NULL,
    resolved_at      TEXT    NULL,
    version          INTEGER NOT NULL DEFAULT 0
);

CREATE UNIQUE INDEX ux_dead_letters_event_id ON dead_letters (event_id) WHERE event_id IS NOT NULL;
CREATE INDEX ix_dead_letters_unresolved_order ON dead_letters (order_id) WHERE status = 'Unresolved';
CREATE INDEX ix_dead_letters_status ON dead_letters (status, id);

CREATE TABLE parked_messages (
    id        INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    order_id  TEXT    NOT NULL,
    event_id  TEXT    NOT NULL UNIQUE,
    topic     TEXT    NOT NULL,
    partition INTEGER NOT NULL,
    "offset"  INTEGER NOT NULL,
    payload   TEXT    NOT NULL,
    parked_at TEXT    NOT NULL
);

CREATE INDEX ix_parked_messages_order ON parked_messages (order_id, id);
