-- +goose Up
-- The failed-authentication throttles count across the nodes (issue 18, store.AuthFailures):
-- each throttle instance (one per process run and throttle) keeps its count of a subject (an
-- address or an access key id) in one row. expires_at is the end of the cool-down when
-- cooldown_until is set, else the end of the count's window: past it the row counts no more
-- and is pruned.
CREATE TABLE auth_failures (
    scope          TEXT NOT NULL,
    subject        TEXT NOT NULL,
    instance       TEXT NOT NULL,
    failures       INTEGER NOT NULL,
    cooldown_until TEXT,
    expires_at     TEXT NOT NULL,
    PRIMARY KEY (scope, subject, instance)
);
CREATE INDEX auth_failures_expiry ON auth_failures (scope, expires_at);

-- +goose Down
DROP TABLE auth_failures;
