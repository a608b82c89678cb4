-- +goose Up
-- A publisher that reconnects to another node continues its live recording there (§12): the
-- new node finds it by stream key among the few live recordings.
CREATE INDEX recordings_key_live ON recordings (domain, app, stream) WHERE ended_at IS NULL;

-- +goose Down
DROP INDEX recordings_key_live;
