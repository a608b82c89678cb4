-- +goose Up
-- What the management APIs configure besides rules (store.Control). Same conventions as
-- 00001: seq for creation order where lists need one, times as fixed-width UTC TEXT. Sealed
-- secrets are BLOBs (BYTEA in PostgreSQL); booleans are BOOLEAN, which both databases accept.

CREATE TABLE callbacks (
    seq                INTEGER PRIMARY KEY AUTOINCREMENT,
    id                 TEXT NOT NULL UNIQUE,
    project            TEXT NOT NULL,
    dialect            TEXT NOT NULL,
    domain             TEXT NOT NULL,
    app                TEXT NOT NULL,
    url                TEXT NOT NULL DEFAULT '',
    on_demand_url      TEXT NOT NULL DEFAULT '',
    events             TEXT, -- JSON array of recording.Event, NULL for the dialect's default
    need_status_notify BOOLEAN NOT NULL DEFAULT FALSE,
    sign_type          TEXT NOT NULL DEFAULT '',
    key_sealed         BLOB, -- sealed with the master key, NULL without a key
    enabled            BOOLEAN NOT NULL DEFAULT TRUE,
    disabled_reason    TEXT NOT NULL DEFAULT '',
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    UNIQUE (project, dialect, domain, app)
);
CREATE INDEX callbacks_domain ON callbacks (domain);

-- id is the key's natural key (UNIQUE); seq only orders AccessKeyList, since SQLite allows
-- AUTOINCREMENT on the primary key alone.
CREATE TABLE access_keys (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    id            TEXT NOT NULL UNIQUE,
    project       TEXT NOT NULL,
    admin         BOOLEAN NOT NULL DEFAULT FALSE,
    description   TEXT NOT NULL DEFAULT '',
    secret_sealed BLOB NOT NULL,
    created_at    TEXT NOT NULL,
    revoked_at    TEXT
);
CREATE INDEX access_keys_project ON access_keys (project, seq);

CREATE TABLE tokens (
    id         TEXT PRIMARY KEY,
    project    TEXT NOT NULL,
    admin      BOOLEAN NOT NULL DEFAULT FALSE,
    hash       BLOB NOT NULL UNIQUE, -- SHA-256 of the token; the token itself is never stored
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);

CREATE TABLE domain_claims (
    domain     TEXT PRIMARY KEY, -- lower-case
    project    TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX domain_claims_project ON domain_claims (project);

CREATE TABLE nonces (
    key_id     TEXT NOT NULL,
    nonce      TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    PRIMARY KEY (key_id, nonce)
);
CREATE INDEX nonces_expires ON nonces (expires_at);

-- +goose Down
DROP TABLE nonces;
DROP TABLE domain_claims;
DROP TABLE tokens;
DROP TABLE access_keys;
DROP TABLE callbacks;
