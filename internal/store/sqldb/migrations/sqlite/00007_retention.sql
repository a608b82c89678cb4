-- +goose Up
-- Retention, disk policy and event recordings (issue 17): the rule's retention, overwrite and
-- pre-roll settings, and a recording's lock and label.

ALTER TABLE rules ADD COLUMN retention_s INTEGER NOT NULL DEFAULT 0;
ALTER TABLE rules ADD COLUMN overwrite_when_full INTEGER NOT NULL DEFAULT 0;
ALTER TABLE rules ADD COLUMN pre_roll_s INTEGER NOT NULL DEFAULT 0;

ALTER TABLE recordings ADD COLUMN locked INTEGER NOT NULL DEFAULT 0;
ALTER TABLE recordings ADD COLUMN label TEXT NOT NULL DEFAULT '';

-- A retention pass seeks the ended, unlocked recordings of one rule by end time; the stored
-- files are a small, moving subset of all files, so they get a partial index of their own.
CREATE INDEX recordings_retention ON recordings (rule_id, ended_at) WHERE locked = 0 AND ended_at IS NOT NULL;
CREATE INDEX files_stored ON files (recording_id, seq) WHERE state = 'stored';
CREATE INDEX files_stored_endpoint ON files (endpoint, started_at) WHERE state = 'stored';

-- +goose Down
DROP INDEX files_stored_endpoint;
DROP INDEX files_stored;
DROP INDEX recordings_retention;
ALTER TABLE recordings DROP COLUMN label;
ALTER TABLE recordings DROP COLUMN locked;
ALTER TABLE rules DROP COLUMN pre_roll_s;
ALTER TABLE rules DROP COLUMN overwrite_when_full;
ALTER TABLE rules DROP COLUMN retention_s;
