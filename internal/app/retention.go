package app

import (
	"fmt"

	"github.com/liverec/liverec/internal/retention"
	"github.com/liverec/liverec/internal/store/sqldb"
)

// newRetention builds the retention passes (rules' retention_s) and gives the service the same
// deleter, so the API's deletions send file_deleted too, and the recording locks.
func (a *App) newRetention(db *sqldb.DB) (*retention.Retention, error) {
	del := &retention.Deleter{Objects: endpointObjects{a}, Slices: db, Marker: a.events,
		Metrics: a.deletedMetrics(), Logger: a.log.With("component", "retention")}
	rc := a.conf.Retention
	r, err := retention.New(retention.Config{Store: db, Deleter: del, Interval: rc.Interval.D(),
		BatchSize: rc.BatchSize, Pace: rc.Pace.D(), Logger: a.log.With("component", "retention")})
	if err != nil {
		return nil, fmt.Errorf("retention: %w", err)
	}
	a.svc.Deleter, a.svc.Locks, a.svc.Retention = del, db, r
	return r, nil
}
