-- +goose Up
-- The outbox (store.Outbox, §7): events written with the state change that caused them, one
-- delivery per event and callback configuration, and every attempt. Same conventions as 00001:
-- seq is the creation order, ids are random, times are fixed-width UTC TEXT. These tables are
-- written for every delivery, so seq is a plain INTEGER PRIMARY KEY: SQLite still gives each
-- new row max(seq)+1, which keeps creation order, without AUTOINCREMENT's extra write of
-- sqlite_sequence in every transaction (a seq is never an external id, so reuse after
-- deleting the newest rows would be harmless).

-- The filter columns copy fields of data, so lists can select without parsing JSON. No foreign
-- key to recordings: an on-demand decision failure has no recording.
CREATE TABLE events (
    seq          INTEGER PRIMARY KEY,
    id           TEXT NOT NULL UNIQUE,
    type         TEXT NOT NULL,
    data         TEXT NOT NULL, -- JSON recording.EventData
    project      TEXT NOT NULL,
    recording_id TEXT NOT NULL DEFAULT '',
    domain       TEXT NOT NULL DEFAULT '',
    app          TEXT NOT NULL DEFAULT '',
    stream       TEXT NOT NULL DEFAULT '',
    event_seq    INTEGER NOT NULL DEFAULT 0, -- EventData.Seq, numbering a recording's events
    created_at   TEXT NOT NULL
);
CREATE INDEX events_recording ON events (recording_id, event_seq);

-- order_seq is Delivery.Seq, the order within order_key. No foreign key to callbacks: the log
-- of a deleted configuration's deliveries stays.
CREATE TABLE deliveries (
    seq         INTEGER PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    event_id    TEXT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    callback_id TEXT NOT NULL,
    project     TEXT NOT NULL,
    order_key   TEXT NOT NULL,
    order_seq   INTEGER NOT NULL,
    state       TEXT NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    next_at     TEXT NOT NULL,
    last_status INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
-- A claim walks the due pending deliveries by next_at and, for each, seeks an earlier pending
-- one of its key: both are index range scans. The indexes hold pending deliveries only, so
-- they stay small however many delivered ones accumulate, and ending a delivery only deletes
-- from them.
CREATE INDEX deliveries_due ON deliveries (next_at) WHERE state = 'pending';
CREATE INDEX deliveries_order ON deliveries (order_key, order_seq) WHERE state = 'pending';
CREATE INDEX deliveries_project ON deliveries (project, seq);

CREATE TABLE attempts (
    seq         INTEGER PRIMARY KEY,
    delivery_id TEXT NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
    at          TEXT NOT NULL,
    status      INTEGER NOT NULL DEFAULT 0,
    latency_ns  INTEGER NOT NULL DEFAULT 0,
    error       TEXT NOT NULL DEFAULT '',
    reply_head  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX attempts_delivery ON attempts (delivery_id, at);

-- +goose Down
DROP TABLE attempts;
DROP TABLE deliveries;
DROP TABLE events;
