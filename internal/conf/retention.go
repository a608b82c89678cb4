package conf

import (
	"time"
)

// Retention paces the deletion of expired files (internal/retention); each rule's
// retention_s says what expires.
type Retention struct {
	// Interval is the time between passes. Default 1m.
	Interval Duration `yaml:"interval"`
	// BatchSize is the most files read and deleted at once. Default 1000.
	BatchSize int `yaml:"batch_size"`
	// Pace is the pause between two batches of a pass. Default 20ms; 0 in the file takes
	// the default, a negative value none.
	Pace Duration `yaml:"pace"`
}

func (r *Retention) setDefaults() {
	if r.Interval == 0 {
		r.Interval = Duration(time.Minute)
	}
	if r.BatchSize == 0 {
		r.BatchSize = 1000
	}
	if r.Pace == 0 {
		r.Pace = Duration(20 * time.Millisecond)
	}
}

func (r *Retention) validate() []error {
	var errs []error
	if r.Interval.D() < 10*time.Millisecond {
		errs = append(errs, keyErr("retention.interval", "must be at least 10ms"))
	}
	if r.BatchSize < 1 || r.BatchSize > 10_000 {
		errs = append(errs, keyErr("retention.batch_size", "must be 1–10000"))
	}
	return errs
}
