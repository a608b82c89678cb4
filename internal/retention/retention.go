package retention

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/store"
)

// Store finds the expired files (store.Retention).
type Store interface {
	RetentionRules(ctx context.Context) ([]recording.Rule, error)
	RetentionDue(ctx context.Context, ruleID string, endedBefore time.Time, limit int) ([]store.DueFile, error)
}

// Config configures a Retention.
type Config struct {
	// Store finds the rules with a retention and their expired files. Required.
	Store Store
	// Deleter deletes them. Required.
	Deleter *Deleter
	// Interval is the time between passes; default 1m.
	Interval time.Duration
	// BatchSize is the most files read and deleted at once (their marks are one
	// transaction); default 1000.
	BatchSize int
	// Pace is the pause between two batches of a pass, so a large backlog does not starve
	// the recorders of disk, database and bucket; default 20ms, negative for none. With the
	// defaults a pass over 100,000 files takes a few seconds (BenchmarkPass100k).
	Pace time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Logger logs each pass's deletions and failures; nil logs nothing.
	Logger *slog.Logger
}

// Retention deletes, every Interval, the stored files of each rule with a RetentionS whose
// recording ended more than RetentionS ago, unless the recording is locked.
type Retention struct {
	cfg Config
	log *slog.Logger
}

// Due is a file the next pass would delete.
type Due struct {
	FileID      string    `json:"id"`
	RecordingID string    `json:"recording_id"`
	RuleID      string    `json:"rule_id"`
	Format      string    `json:"format"`
	Endpoint    string    `json:"endpoint"`
	Bucket      string    `json:"bucket"`
	ObjectKey   string    `json:"object_key"`
	Bytes       int64     `json:"bytes"`
	EndedAt     time.Time `json:"ended_at"`
	DueAt       time.Time `json:"due_at"`
}

// New checks cfg and fills its defaults.
func New(cfg Config) (*Retention, error) {
	if cfg.Store == nil || cfg.Deleter == nil {
		return nil, errors.New("retention: a store and a deleter are required")
	}
	if cfg.Interval <= 0 {
		cfg.Interval = time.Minute
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 1000
	}
	if cfg.Pace == 0 {
		cfg.Pace = 20 * time.Millisecond
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Retention{cfg: cfg, log: log}, nil
}

// Run makes a pass at once and then every Interval until ctx ends; it returns nil. A failed
// pass is logged and the next one takes up where it stopped.
func (r *Retention) Run(ctx context.Context) error {
	t := time.NewTicker(r.cfg.Interval)
	defer t.Stop()
	for {
		n, bytes, err := r.Pass(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			r.log.Error("retention pass", "deleted", n, "bytes", bytes, "err", err)
		case n > 0:
			r.log.Info("retention pass", "deleted", n, "bytes", bytes)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Pass deletes every expired file now, a batch at a time with Pace between batches, and
// returns how many files it deleted and their bytes. A rule whose deletions fail is left
// for the next pass after the others were tried; the errors are joined.
func (r *Retention) Pass(ctx context.Context) (n int, bytes int64, err error) {
	rules, err := r.cfg.Store.RetentionRules(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("retention pass: %w", err)
	}
	now := r.cfg.Now()
	var errs []error
	for i := range rules {
		rn, rb, err := r.passRule(ctx, &rules[i], now)
		n, bytes = n+rn, bytes+rb
		if err != nil {
			if ctx.Err() != nil {
				return n, bytes, ctx.Err()
			}
			errs = append(errs, fmt.Errorf("rule %s: %w", rules[i].ID, err))
		}
	}
	return n, bytes, errors.Join(errs...)
}

func (r *Retention) passRule(ctx context.Context, rule *recording.Rule, now time.Time) (n int, bytes int64, err error) {
	cutoff := now.Add(-time.Duration(rule.RetentionS) * time.Second)
	for {
		due, err := r.cfg.Store.RetentionDue(ctx, rule.ID, cutoff, r.cfg.BatchSize)
		if err != nil {
			return n, bytes, fmt.Errorf("list expired files: %w", err)
		}
		if len(due) == 0 {
			return n, bytes, nil
		}
		bn, bb, err := r.cfg.Deleter.Delete(ctx, due, recording.DeleteRetention)
		n, bytes = n+bn, bytes+bb
		if err != nil {
			return n, bytes, err
		}
		if len(due) < r.cfg.BatchSize {
			return n, bytes, nil
		}
		if r.cfg.Pace > 0 {
			select {
			case <-ctx.Done():
				return n, bytes, ctx.Err()
			case <-time.After(r.cfg.Pace):
			}
		}
	}
}

// Preview returns what a pass now would delete of project's files, oldest first per rule.
func (r *Retention) Preview(ctx context.Context, project string) ([]Due, error) {
	rules, err := r.cfg.Store.RetentionRules(ctx)
	if err != nil {
		return nil, fmt.Errorf("retention preview: %w", err)
	}
	now := r.cfg.Now()
	out := []Due{}
	for _, rule := range rules {
		if rule.Project != project {
			continue
		}
		keep := time.Duration(rule.RetentionS) * time.Second
		due, err := r.cfg.Store.RetentionDue(ctx, rule.ID, now.Add(-keep), 0)
		if err != nil {
			return nil, fmt.Errorf("retention preview of rule %s: %w", rule.ID, err)
		}
		for _, d := range due {
			f := d.File
			ended := *d.Recording.EndedAt // RetentionDue returns ended recordings only
			out = append(out, Due{FileID: f.ID, RecordingID: f.RecordingID, RuleID: rule.ID, Format: string(f.Format),
				Endpoint: f.Endpoint, Bucket: f.Bucket, ObjectKey: f.ObjectKey, Bytes: f.Bytes,
				EndedAt: ended, DueAt: ended.Add(keep)})
		}
	}
	return out, nil
}
