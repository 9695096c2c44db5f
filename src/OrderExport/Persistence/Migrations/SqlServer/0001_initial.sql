-- OrderExport schema v1 (SQL Server): orders and the transactional outbox.
-- Strings are nvarchar (EF Core sends nvarchar parameters), timestamps datetime2 holding UTC.

CREATE TABLE orders (
    id              uniqueidentifier NOT NULL PRIMARY KEY,
    customer_id     nvarchar(64)     NOT NULL,
    amount          decimal(18,2)    NOT NULL,
    currency        nvarchar(3)      NOT NULL,
    status          nvarchar(16)     NOT NULL,
    export_status   nvarchar(16)     NOT NULL,
    export_sequence int              NOT NULL DEFAULT 0,
    created_at      datetime2        NOT NULL,
    confirmed_at    datetime2        NULL,
    version         int              NOT NULL DEFAULT 0
);

CREATE TABLE outbox_messages (
    id              bigint           IDENTITY(1,1) NOT NULL PRIMARY KEY,
    event_id        uniqueidentifier NOT NULL,
    order_id        uniqueidentifier NOT NULL,
    event_type      nvarchar(128)    NOT NULL,
    schema_version  int              NOT NULL,
    occurred_at     datetime2        NOT NULL,
    payload         nvarchar(max)    NOT NULL,
    trace_parent    nvarchar(64)     NULL,
    trace_state     nvarchar(512)    NULL,
    created_at      datetime2        NOT NULL,
    attempts        int              NOT NULL DEFAULT 0,
    last_error      nvarchar(max)    NULL,
    next_attempt_at datetime2        NULL,
    published_at    datetime2        NULL,
    CONSTRAINT ux_outbox_messages_event_id UNIQUE (event_id)
);

-- The relay's claim: unpublished rows in id order, and "is there an earlier unpublished row
-- of the same order?" (per-order order). Filtered indexes stay small: published rows drop out.
CREATE INDEX ix_outbox_unpublished ON outbox_messages (id) INCLUDE (next_attempt_at, order_id) WHERE published_at IS NULL;
CREATE INDEX ix_outbox_unpublished_by_order ON outbox_messages (order_id, id) WHERE published_at IS NULL;
-- Retention clean-up of published rows.
CREATE INDEX ix_outbox_published_at ON outbox_messages (published_at) WHERE published_at IS NOT NULL;
