-- +goose Up
-- Tokens belong to the access key that minted them, directly or through another token: they
-- die when that key is revoked or disabled. Tokens made before this migration cannot be traced
-- to a key, so they are dropped (they lived 30 days at most; a key mints a new one).
DELETE FROM tokens;
ALTER TABLE tokens ADD COLUMN key_id TEXT NOT NULL DEFAULT '';
CREATE INDEX tokens_key ON tokens (key_id);
CREATE INDEX tokens_project ON tokens (project, created_at);

-- A disabled key authenticates nothing until enabled again; unlike a revoked one it may come back.
ALTER TABLE access_keys ADD COLUMN disabled BOOLEAN NOT NULL DEFAULT FALSE;

-- Facts about the database itself. 'seeded' is written in the transaction that writes the
-- default rule, so a data dir is seeded exactly once, however its first start ended. A database
-- that already holds rules, keys or recordings was seeded by an earlier version.
CREATE TABLE meta (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
INSERT INTO meta (name, value)
    SELECT 'seeded', 'before 00004'
    WHERE EXISTS (SELECT 1 FROM rules) OR EXISTS (SELECT 1 FROM access_keys)
       OR EXISTS (SELECT 1 FROM recordings);

-- +goose Down
DROP TABLE meta;
ALTER TABLE access_keys DROP COLUMN disabled;
DROP INDEX tokens_project;
DROP INDEX tokens_key;
ALTER TABLE tokens DROP COLUMN key_id;
