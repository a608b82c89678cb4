-- +goose Up
-- seq gives every table a creation order that does not depend on clock resolution; ids are
-- random. Times are TEXT in a fixed-width UTC layout (see sqlite.go), so they sort as text.

CREATE TABLE rules (
    seq               INTEGER PRIMARY KEY AUTOINCREMENT,
    id                TEXT NOT NULL UNIQUE,
    project           TEXT NOT NULL,
    dialect           TEXT NOT NULL,
    domain            TEXT NOT NULL,
    app               TEXT NOT NULL,
    stream            TEXT NOT NULL,
    mode              TEXT NOT NULL,
    formats           TEXT NOT NULL, -- JSON array of recording.FormatConfig
    storage_endpoint  TEXT NOT NULL,
    storage_bucket    TEXT NOT NULL,
    storage_base_path TEXT NOT NULL DEFAULT '',
    start_time        TEXT,
    end_time          TEXT,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    UNIQUE (project, domain, app, stream)
);
CREATE INDEX rules_domain ON rules (domain);

CREATE TABLE recordings (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    id         TEXT NOT NULL UNIQUE,
    project    TEXT NOT NULL,
    rule_id    TEXT NOT NULL DEFAULT '', -- no foreign key: recordings outlive their rule
    domain     TEXT NOT NULL,
    app        TEXT NOT NULL,
    stream     TEXT NOT NULL,
    state      TEXT NOT NULL,
    reason     TEXT NOT NULL DEFAULT '',
    started_at TEXT NOT NULL,
    ended_at   TEXT,
    params     TEXT -- JSON object, NULL for none
);
CREATE INDEX recordings_project ON recordings (project, seq);
CREATE INDEX recordings_state ON recordings (state);

CREATE TABLE files (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    id           TEXT NOT NULL UNIQUE,
    recording_id TEXT NOT NULL REFERENCES recordings (id) ON DELETE CASCADE,
    format       TEXT NOT NULL,
    state        TEXT NOT NULL,
    spool_path   TEXT NOT NULL DEFAULT '',
    endpoint     TEXT NOT NULL DEFAULT '',
    bucket       TEXT NOT NULL DEFAULT '',
    object_key   TEXT NOT NULL DEFAULT '',
    started_at   TEXT NOT NULL,
    ended_at     TEXT,
    duration_ns  INTEGER NOT NULL DEFAULT 0,
    bytes        INTEGER NOT NULL DEFAULT 0,
    video_frames INTEGER NOT NULL DEFAULT 0,
    audio_frames INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX files_recording ON files (recording_id, seq);
CREATE INDEX files_state ON files (state);

-- +goose Down
DROP TABLE files;
DROP TABLE recordings;
DROP TABLE rules;
