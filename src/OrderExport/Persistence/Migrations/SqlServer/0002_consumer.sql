-- OrderExport schema v2 (SQL Server): the consumer's inbox, dead letters and parked events.

-- One row per event the consumer has handled: a redelivered event is skipped, not exported twice.
CREATE TABLE inbox_messages (
    event_id   uniqueidentifier NOT NULL PRIMARY KEY,
    order_id   uniqueidentifier NOT NULL,
    outcome    nvarchar(16)     NOT NULL,
    handled_at datetime2        NOT NULL
);

-- Messages that could not be exported (or read), with why; resolved by replay or discard.
CREATE TABLE dead_letters (
    id               bigint           IDENTITY(1,1) NOT NULL PRIMARY KEY,
    event_id         uniqueidentifier NULL,
    order_id         uniqueidentifier NULL,
    message_key      nvarchar(max)    NULL,
    topic            nvarchar(249)    NOT NULL,
    partition        int              NOT NULL,
    [offset]         bigint           NOT NULL,
    error_type       nvarchar(200)    NOT NULL,
    error_message    nvarchar(max)    NOT NULL,
    attempts         int              NOT NULL,
    first_failure_at datetime2        NOT NULL,
    last_failure_at  datetime2        NOT NULL,
    payload          nvarchar(max)    NOT NULL,
    status           nvarchar(16)     NOT NULL,
    created_at       datetime2        NOT NULL,
    resolved_at      datetime2        NULL,
    version          int              NOT NULL DEFAULT 0
);

CREATE UNIQUE INDEX ux_dead_letters_event_id ON dead_letters (event_id) WHERE event_id IS NOT NULL;
CREATE INDEX ix_dead_letters_unresolved_order ON dead_letters (order_id) WHERE status = N'Unresolved';
CREATE INDEX ix_dead_letters_status ON dead_letters (status, id);

-- Later events of an order that has an unresolved dead letter wait here, in arrival order.
CREATE TABLE parked_messages (
    id        bigint           IDENTITY(1,1) NOT NULL PRIMARY KEY,
    order_id  uniqueidentifier NOT NULL,
    event_id  uniqueidentifier NOT NULL,
    topic     nvarchar(249)    NOT NULL,
    partition int              NOT NULL,
    [offset]  bigint           NOT NULL,
    payload   nvarchar(max)    NOT NULL,
    parked_at datetime2        NOT NULL,
    CONSTRAINT ux_parked_messages_event_id UNIQUE (event_id)
);

CREATE INDEX ix_parked_messages_order ON parked_messages (order_id, id);
