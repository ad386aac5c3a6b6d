-- The shop: one schema for SQLite and PostgreSQL alike. Portable on purpose: TEXT ids given by
-- the application (no AUTOINCREMENT / SERIAL), BIGINT cents for money, TEXT ISO-8601 dates
-- (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ), JSON as TEXT, CHECK constraints for every state.

CREATE TABLE customers (
    id    TEXT PRIMARY KEY,
    name  TEXT NOT NULL,
    phone TEXT NOT NULL UNIQUE,
    email TEXT NOT NULL,
    zip   TEXT NOT NULL
);

CREATE TABLE products (
    sku         TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    price_cents BIGINT NOT NULL CHECK (price_cents >= 0),
    variants    TEXT NOT NULL -- JSON array of strings; '[]' for a product without variants
);

-- Stock per variant; a product without variants has one row with variant ''.
CREATE TABLE stock (
    sku      TEXT NOT NULL REFERENCES products (sku),
    variant  TEXT NOT NULL,
    in_stock BIGINT NOT NULL CHECK (in_stock >= 0),
    PRIMARY KEY (sku, variant)
);

CREATE TABLE orders (
    id          TEXT PRIMARY KEY CHECK (length(id) = 6),
    customer_id TEXT NOT NULL REFERENCES customers (id),
    placed      TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('placed', 'shipped', 'delivered', 'cancelled')),
    ship_street TEXT NOT NULL,
    ship_city   TEXT NOT NULL,
    ship_zip    TEXT NOT NULL
);
CREATE INDEX orders_by_customer ON orders (customer_id);

CREATE TABLE order_items (
    order_id    TEXT NOT NULL REFERENCES orders (id),
    line        BIGINT NOT NULL,
    sku         TEXT NOT NULL REFERENCES products (sku),
    variant     TEXT NOT NULL,
    qty         BIGINT NOT NULL CHECK (qty > 0),
    price_cents BIGINT NOT NULL CHECK (price_cents >= 0),
    PRIMARY KEY (order_id, line)
);

-- One shipment per order.
CREATE TABLE shipments (
    order_id TEXT PRIMARY KEY REFERENCES orders (id),
    carrier  TEXT NOT NULL,
    tracking TEXT NOT NULL UNIQUE,
    status   TEXT NOT NULL CHECK (status IN ('label_created', 'in_transit', 'out_for_delivery', 'delivered', 'exception')),
    eta      TEXT
);

CREATE TABLE tracking_events (
    order_id    TEXT NOT NULL REFERENCES shipments (order_id),
    seq         BIGINT NOT NULL,
    at          TEXT NOT NULL,
    location    TEXT NOT NULL,
    description TEXT NOT NULL,
    PRIMARY KEY (order_id, seq)
);

-- A repeated request for the same item never creates a second return.
CREATE TABLE returns (
    id       TEXT PRIMARY KEY,
    order_id TEXT NOT NULL REFERENCES orders (id),
    sku      TEXT NOT NULL REFERENCES products (sku),
    reason   TEXT NOT NULL,
    created  TEXT NOT NULL,
    state    TEXT NOT NULL CHECK (state IN ('requested', 'label_sent', 'received', 'refunded', 'rejected')),
    UNIQUE (order_id, sku)
);

-- cause: the return id the refund is for, or 'cancellation' / 'goodwill'; one refund per cause.
CREATE TABLE refunds (
    id           TEXT PRIMARY KEY,
    order_id     TEXT NOT NULL REFERENCES orders (id),
    cause        TEXT NOT NULL,
    amount_cents BIGINT NOT NULL CHECK (amount_cents >= 0),
    state        TEXT NOT NULL CHECK (state IN ('pending', 'issued', 'failed')),
    created      TEXT NOT NULL,
    UNIQUE (order_id, cause)
);

CREATE TABLE exchanges (
    id           TEXT PRIMARY KEY,
    order_id     TEXT NOT NULL REFERENCES orders (id),
    sku          TEXT NOT NULL REFERENCES products (sku),
    from_variant TEXT NOT NULL,
    to_variant   TEXT NOT NULL,
    created      TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('requested', 'shipped', 'completed', 'rejected')),
    UNIQUE (order_id, sku)
);

CREATE TABLE calls (
    id          TEXT PRIMARY KEY,
    started     TEXT NOT NULL,
    ended       TEXT,
    channel     TEXT NOT NULL,           -- sip | webrtc | mic | text
    caller      TEXT,                    -- the caller's number when known
    customer_id TEXT REFERENCES customers (id),
    outcome     TEXT
);

-- Complaints and hand-overs to a person, each with a summary for the team.
CREATE TABLE tickets (
    id          TEXT PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('complaint', 'transfer')),
    call_id     TEXT REFERENCES calls (id),
    customer_id TEXT REFERENCES customers (id),
    order_id    TEXT REFERENCES orders (id),
    summary     TEXT NOT NULL,
    created     TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('open', 'closed'))
);

CREATE TABLE turns (
    call_id            TEXT NOT NULL REFERENCES calls (id),
    idx                BIGINT NOT NULL,
    role               TEXT NOT NULL CHECK (role IN ('caller', 'assistant', 'tool')),
    text               TEXT NOT NULL,
    asr_ms             BIGINT,  -- end of speech to final transcript
    llm_first_ms       BIGINT,  -- transcript to first generated token
    tts_first_ms       BIGINT,  -- first token to first audio frame
    end_to_end_ms      BIGINT,  -- end of speech to first audio frame
    PRIMARY KEY (call_id, idx)
);

CREATE TABLE tool_audit (
    call_id TEXT NOT NULL REFERENCES calls (id),
    seq     BIGINT NOT NULL,
    at      TEXT NOT NULL,
    tool    TEXT NOT NULL,
    args    TEXT NOT NULL, -- JSON object
    outcome TEXT NOT NULL CHECK (outcome IN ('ok', 'denied', 'error')),
    detail  TEXT NOT NULL,
    PRIMARY KEY (call_id, seq)
);

CREATE TABLE surveys (
    call_id TEXT PRIMARY KEY REFERENCES calls (id),
    score   BIGINT NOT NULL CHECK (score BETWEEN 1 AND 5),
    at      TEXT NOT NULL
);
