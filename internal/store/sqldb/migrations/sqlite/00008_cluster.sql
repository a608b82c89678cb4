-- +goose Up
-- Scale-out (§12): the nodes of a deployment, the leases by which one node at a time owns a
-- publishing stream, and the node recording each recording. SQLite runs one node, with the
-- same tables, so the code is the same.
CREATE TABLE nodes (
    id         TEXT PRIMARY KEY,
    http_addr  TEXT NOT NULL,
    rtmp_addr  TEXT NOT NULL,
    version    TEXT NOT NULL,
    started_at TEXT NOT NULL,
    beat_at    TEXT NOT NULL
);

-- stream_key is domain/app/stream: names cannot hold a slash (§1).
CREATE TABLE stream_leases (
    stream_key TEXT PRIMARY KEY,
    node_id    TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX stream_leases_node ON stream_leases (node_id);

ALTER TABLE recordings ADD COLUMN node_id TEXT NOT NULL DEFAULT '';
CREATE INDEX recordings_node_live ON recordings (node_id, started_at) WHERE ended_at IS NULL;

-- +goose Down
DROP INDEX recordings_node_live;
ALTER TABLE recordings DROP COLUMN node_id;
DROP TABLE stream_leases;
DROP TABLE nodes;
