-- +goose Up
-- Publish authentication per domain (§11, store.PublishAuthStore): one row per domain, shared
-- by every API dialect. seq is the Alibaba ConfigId, kept when a row is replaced. Keys are
-- sealed with the master key (BLOB, BYTEA in PostgreSQL); durations are whole numbers.

CREATE TABLE publish_auth (
    seq                INTEGER PRIMARY KEY AUTOINCREMENT,
    domain             TEXT NOT NULL UNIQUE, -- lower-case; "*" is the default
    project            TEXT NOT NULL,
    method             TEXT NOT NULL,
    key_sealed         BLOB,
    backup_key_sealed  BLOB,
    validity_s         INTEGER NOT NULL DEFAULT 0,
    args               TEXT, -- JSON array of {name, value}, NULL without any
    webhook_url        TEXT NOT NULL DEFAULT '',
    webhook_timeout_ms INTEGER NOT NULL DEFAULT 0,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL
);

-- +goose Down
DROP TABLE publish_auth;
