-- +goose Up
-- The catalogue (store.Catalog, §9): recordings and files that can be found by stream and
-- time, the stored HLS slices that indexes and clips are built from, the indexes themselves,
-- stream blocks, the publish history and plan tasks. Same conventions as 00001: seq is the
-- creation order, ids are random, times are fixed-width UTC TEXT (so they compare as text),
-- durations are nanoseconds.

ALTER TABLE recordings ADD COLUMN mode TEXT NOT NULL DEFAULT '';
-- Lists page by seq within a project; these let the usual filters seek instead of scan.
CREATE INDEX recordings_stream ON recordings (project, domain, app, stream, seq);
CREATE INDEX recordings_project_state ON recordings (project, state, seq);
CREATE INDEX recordings_project_mode ON recordings (project, mode, seq);
-- A time range [From, To) matches "started before To, and live or ended after From". Such a
-- recording started after From minus the longest ended recording (one seek in
-- recordings_span) or is live (one seek in recordings_live for the oldest), which bounds the
-- range of recordings_started from below; ended_at in it keeps the count index-only.
CREATE INDEX recordings_started ON recordings (project, started_at, ended_at);
CREATE INDEX recordings_span ON recordings (project, (julianday(ended_at) - julianday(started_at)));
CREATE INDEX recordings_live ON recordings (project, started_at) WHERE ended_at IS NULL;

-- A list's total by project, state and mode without counting 100,000 index entries: kept by
-- triggers, used when a list filters by nothing else.
CREATE TABLE recording_counts (
    project TEXT NOT NULL,
    state   TEXT NOT NULL,
    mode    TEXT NOT NULL,
    n       INTEGER NOT NULL,
    PRIMARY KEY (project, state, mode)
);
INSERT INTO recording_counts (project, state, mode, n)
    SELECT project, state, mode, COUNT(*) FROM recordings WHERE TRUE GROUP BY project, state, mode;
-- +goose StatementBegin
CREATE TRIGGER recordings_count_insert AFTER INSERT ON recordings BEGIN
    INSERT INTO recording_counts (project, state, mode, n) VALUES (NEW.project, NEW.state, NEW.mode, 1)
        ON CONFLICT (project, state, mode) DO UPDATE SET n = n + 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER recordings_count_update AFTER UPDATE OF project, state, mode ON recordings
    WHEN OLD.project IS NOT NEW.project OR OLD.state IS NOT NEW.state OR OLD.mode IS NOT NEW.mode BEGIN
    UPDATE recording_counts SET n = n - 1 WHERE project = OLD.project AND state = OLD.state AND mode = OLD.mode;
    INSERT INTO recording_counts (project, state, mode, n) VALUES (NEW.project, NEW.state, NEW.mode, 1)
        ON CONFLICT (project, state, mode) DO UPDATE SET n = n + 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER recordings_count_delete AFTER DELETE ON recordings BEGIN
    UPDATE recording_counts SET n = n - 1 WHERE project = OLD.project AND state = OLD.state AND mode = OLD.mode;
END;
-- +goose StatementEnd

ALTER TABLE files ADD COLUMN file_seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE files ADD COLUMN width INTEGER NOT NULL DEFAULT 0;
ALTER TABLE files ADD COLUMN height INTEGER NOT NULL DEFAULT 0;
ALTER TABLE files ADD COLUMN deleted_at TEXT;
CREATE INDEX files_started ON files (started_at);
CREATE INDEX files_recording_started ON files (recording_id, started_at);

-- One row per stored HLS slice. project..stream copy the recording's so a stream's slices are
-- found without a join; ended_at (started_at + duration) makes the overlap test a comparison.
CREATE TABLE slices (
    recording_id  TEXT NOT NULL REFERENCES recordings (id) ON DELETE CASCADE,
    file_seq      INTEGER NOT NULL,
    seq           INTEGER NOT NULL,
    project       TEXT NOT NULL,
    domain        TEXT NOT NULL,
    app           TEXT NOT NULL,
    stream        TEXT NOT NULL,
    endpoint      TEXT NOT NULL DEFAULT '',
    bucket        TEXT NOT NULL DEFAULT '',
    object_key    TEXT NOT NULL DEFAULT '',
    started_at    TEXT NOT NULL,
    ended_at      TEXT NOT NULL,
    duration_ns   INTEGER NOT NULL DEFAULT 0,
    bytes         INTEGER NOT NULL DEFAULT 0,
    discontinuity BOOLEAN NOT NULL DEFAULT FALSE,
    deleted       BOOLEAN NOT NULL DEFAULT FALSE,
    UNIQUE (recording_id, file_seq, seq)
);
-- In SliceList's order, so a stream's range is read without sorting.
CREATE INDEX slices_stream ON slices (domain, app, stream, started_at, recording_id, file_seq, seq);
-- The longest slice of a stream bounds how far before From a slice overlapping From can
-- start; MAX over this index is one seek.
CREATE INDEX slices_stream_duration ON slices (domain, app, stream, duration_ns);

CREATE TABLE record_indexes (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    id          TEXT NOT NULL UNIQUE,
    project     TEXT NOT NULL,
    domain      TEXT NOT NULL,
    app         TEXT NOT NULL,
    stream      TEXT NOT NULL,
    endpoint    TEXT NOT NULL DEFAULT '',
    bucket      TEXT NOT NULL DEFAULT '',
    object_key  TEXT NOT NULL DEFAULT '',
    started_at  TEXT NOT NULL,
    ended_at    TEXT NOT NULL,
    duration_ns INTEGER NOT NULL DEFAULT 0,
    width       INTEGER NOT NULL DEFAULT 0,
    height      INTEGER NOT NULL DEFAULT 0,
    created_at  TEXT NOT NULL
);
CREATE INDEX record_indexes_stream ON record_indexes (project, domain, app, stream, started_at);

-- Domains are lower-case (DNS names compare case-insensitively).
CREATE TABLE stream_blocks (
    domain     TEXT NOT NULL,
    app        TEXT NOT NULL,
    stream     TEXT NOT NULL,
    resume_at  TEXT, -- NULL: until deleted
    created_at TEXT NOT NULL,
    PRIMARY KEY (domain, app, stream)
);

CREATE TABLE publishes (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    id          TEXT NOT NULL UNIQUE,
    domain      TEXT NOT NULL,
    app         TEXT NOT NULL,
    stream      TEXT NOT NULL,
    client_addr TEXT NOT NULL DEFAULT '',
    protocol    TEXT NOT NULL DEFAULT '',
    started_at  TEXT NOT NULL,
    ended_at    TEXT -- NULL while live
);
CREATE INDEX publishes_stream ON publishes (domain, app, stream, started_at);
CREATE INDEX publishes_started ON publishes (started_at);
CREATE INDEX publishes_live ON publishes (started_at) WHERE ended_at IS NULL;

CREATE TABLE plan_tasks (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    id         TEXT NOT NULL UNIQUE,
    project    TEXT NOT NULL,
    domain     TEXT NOT NULL,
    app        TEXT NOT NULL,
    stream     TEXT NOT NULL,
    start_time TEXT NOT NULL,
    end_time   TEXT NOT NULL,
    stopped_at TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX plan_tasks_project ON plan_tasks (project, seq);
CREATE INDEX plan_tasks_stream ON plan_tasks (domain, app, stream, end_time);

-- +goose Down
DROP TABLE plan_tasks;
DROP TABLE publishes;
DROP TABLE stream_blocks;
DROP TABLE record_indexes;
DROP TABLE slices;
DROP INDEX files_recording_started;
DROP INDEX files_started;
ALTER TABLE files DROP COLUMN deleted_at;
ALTER TABLE files DROP COLUMN height;
ALTER TABLE files DROP COLUMN width;
ALTER TABLE files DROP COLUMN file_seq;
DROP TRIGGER recordings_count_delete;
DROP TRIGGER recordings_count_update;
DROP TRIGGER recordings_count_insert;
DROP TABLE recording_counts;
DROP INDEX recordings_live;
DROP INDEX recordings_span;
DROP INDEX recordings_started;
DROP INDEX recordings_project_mode;
DROP INDEX recordings_project_state;
DROP INDEX recordings_stream;
ALTER TABLE recordings DROP COLUMN mode;
