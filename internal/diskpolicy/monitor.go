// Package diskpolicy keeps the disks liverec writes to from filling by surprise. A Monitor
// measures each volume (the data dir, the spool, each local endpoint's root) against two water
// marks of free space: below the high mark it warns; below the low mark it deletes the oldest
// unlocked stored files of the rules that allow it (overwrite_when_full) until the volume is
// above the high mark again, or, when there is nothing it may delete, refuses new recordings on
// the volume so that what is stored is kept and what is recording can go on writing.
//
// The Monitor decides; it deletes through a Reclaimer (the retention deleter, which writes the
// file_deleted events) and refuses through the app's question Refuse, asked when a recording
// would start.
package diskpolicy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/store"
)

// Reclaimer finds and deletes stored files for the disk policy. Each candidate comes with its
// recording, for the file_deleted event (store.DueFile); *retention.Deleter's Delete fits.
type Reclaimer interface {
	// OldestOverwritable lists up to limit stored files of unlocked recordings on the local
	// endpoint (a canonical endpoint name) whose rules have OverwriteWhenFull, oldest first.
	OldestOverwritable(ctx context.Context, endpoint string, limit int) ([]store.DueFile, error)
	// Delete removes the files' objects and marks them deleted with the reason, reporting how
	// many files and bytes went.
	Delete(ctx context.Context, files []store.DueFile, reason string) (n int, bytes int64, err error)
}

// Mark is a water mark of free space: Bytes, or Percent of the volume's size when set.
type Mark struct {
	Bytes   int64
	Percent float64
}

// Of returns the mark in bytes on a volume of total bytes.
func (m Mark) Of(total int64) int64 {
	if m.Percent > 0 {
		return int64(float64(total) * m.Percent / 100)
	}
	return m.Bytes
}

func (m Mark) String() string {
	if m.Percent > 0 {
		return strconv.FormatFloat(m.Percent, 'f', -1, 64) + "%"
	}
	return strconv.FormatInt(m.Bytes, 10) + " bytes"
}

// Config is what a Monitor watches and how.
type Config struct {
	// Volumes are the filesystems watched (see Volumes).
	Volumes []Volume
	// High is disk.high_free: below it the monitor warns, and deletions go on until a volume is
	// above it. Low is disk.low_free: below it the monitor deletes or refuses; zero never does.
	// Where Low is the larger on a volume (a byte count against a percentage), it is both.
	High, Low Mark
	// Interval is the time between checks (disk.check_interval). Required.
	Interval time.Duration
	// Free measures a volume; default Statfs.
	Free func(path string) (Space, error)
	// Reclaimer deletes overwritable files; nil deletes nothing (every full volume refuses).
	Reclaimer Reclaimer
	// Batch is how many candidates are asked of each endpoint at a time. Default 100.
	Batch int
	// Logger defaults to slog.Default(); Metrics may be nil.
	Logger  *slog.Logger
	Metrics *Metrics
}

// Monitor applies the disk policy; see the package comment. Refuse and Status are safe for
// concurrent use with Run.
type Monitor struct {
	cfg Config

	mu    sync.Mutex
	state map[string]*volState // by volume name; written only by check
}

type volState struct {
	vol       Volume
	measured  bool
	space     Space
	high, low int64
	warned    bool // below the high mark, logged
	refusing  bool
	err       string // the last measuring error, logged once
}

// Status is what the last check found of a volume.
type Status struct {
	Volume, Path string
	// Measured is false until the first check (or while measuring fails: Err).
	Measured bool
	Space    Space
	// High and Low are the marks in bytes on this volume.
	High, Low int64
	// BelowHigh: the volume has less free than the high mark. Refusing: new recordings on it
	// are refused.
	BelowHigh, Refusing bool
	Err                 string
}

// Detail is the /readyz text of the volume: "ok", or a warning (which does not fail readiness).
func (s Status) Detail(high, low Mark) string {
	switch {
	case s.Err != "":
		return "warning: free space not measured: " + s.Err
	case !s.Measured:
		return "ok: not measured yet"
	case s.Refusing:
		return fmt.Sprintf("warning: %s free, below disk.low_free (%s): new recordings on it are refused",
			human(s.Space.Free), low)
	case s.BelowHigh:
		return fmt.Sprintf("warning: %s free, below disk.high_free (%s)", human(s.Space.Free), high)
	}
	return "ok"
}

// New checks the config and builds a Monitor.
func New(cfg Config) (*Monitor, error) {
	if cfg.Interval <= 0 {
		return nil, errors.New("disk policy: the check interval must be greater than zero")
	}
	if cfg.High.Bytes < 0 || cfg.Low.Bytes < 0 || cfg.High.Percent < 0 || cfg.Low.Percent < 0 ||
		cfg.High.Percent > 100 || cfg.Low.Percent > 100 {
		return nil, fmt.Errorf("disk policy: marks must be 0–100%% or a byte count (high %s, low %s)", cfg.High, cfg.Low)
	}
	if cfg.Free == nil {
		cfg.Free = Statfs
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 100
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	m := &Monitor{cfg: cfg, state: map[string]*volState{}}
	for _, v := range cfg.Volumes {
		if _, dup := m.state[v.Name]; dup || v.Name == "" {
			return nil, fmt.Errorf("disk policy: volume name %q is empty or used twice", v.Name)
		}
		m.state[v.Name] = &volState{vol: v}
	}
	return m, nil
}

// Run checks every volume at once and then every Interval, until ctx ends.
func (m *Monitor) Run(ctx context.Context) error {
	t := time.NewTicker(m.cfg.Interval)
	defer t.Stop()
	for {
		m.Check(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Check measures every volume once and applies the policy (Run calls it; tests may too).
func (m *Monitor) Check(ctx context.Context) {
	for _, v := range m.cfg.Volumes {
		if ctx.Err() != nil {
			return
		}
		m.checkVolume(ctx, m.state[v.Name])
	}
}

// Refuse says why a new recording storing to endpoint (a canonical endpoint name) must not
// start, or nil: a spool volume or the endpoint's volume is refusing. A refusing volume is
// measured again first, so that space given back is taken at once, not at the next check.
func (m *Monitor) Refuse(endpoint string) error {
	for _, v := range m.cfg.Volumes {
		if !v.Spool && !slices.Contains(v.Endpoints, endpoint) {
			continue
		}
		s := m.state[v.Name]
		m.mu.Lock()
		refusing := s.refusing
		m.mu.Unlock()
		if !refusing {
			continue
		}
		sp, err := m.cfg.Free(v.Path)
		m.mu.Lock()
		if err == nil {
			s.space = sp
			m.cfg.Metrics.free(v.Name, sp.Free)
		}
		if err == nil && s.refusing && sp.Free >= s.high {
			m.cfg.Logger.Info("disk policy: new recordings on the volume are taken again", "volume", v.Name,
				"path", v.Path, "free", sp.Free)
			s.refusing, s.warned = false, false
			m.cfg.Metrics.set(v.Name, false, false)
		}
		refusing, free := s.refusing, s.space.Free
		m.mu.Unlock()
		if refusing {
			return fmt.Errorf("disk full: volume %s (%s) has %d bytes free, below disk.low_free (%s)",
				v.Name, v.Path, free, m.cfg.Low)
		}
	}
	return nil
}

// Status returns what the last check found, in the order of Config.Volumes.
func (m *Monitor) Status() []Status {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Status, 0, len(m.cfg.Volumes))
	for _, v := range m.cfg.Volumes {
		s := m.state[v.Name]
		out = append(out, Status{Volume: v.Name, Path: v.Path, Measured: s.measured, Space: s.space,
			High: s.high, Low: s.low, BelowHigh: s.measured && s.space.Free < s.high,
			Refusing: s.refusing, Err: s.err})
	}
	return out
}

// Marks returns the configured marks (for the /readyz text).
func (m *Monitor) Marks() (high, low Mark) { return m.cfg.High, m.cfg.Low }

func (m *Monitor) measure(s *volState) bool {
	sp, err := m.cfg.Free(s.vol.Path)
	log := m.cfg.Logger.With("volume", s.vol.Name, "path", s.vol.Path)
	m.mu.Lock()
	defer m.mu.Unlock()
	if err != nil {
		if s.err != err.Error() {
			log.Warn("disk policy: free space not measured", "err", err)
		}
		s.err, s.measured = err.Error(), false
		return false
	}
	s.err, s.measured, s.space = "", true, sp
	s.low = m.cfg.Low.Of(sp.Total)
	s.high = max(m.cfg.High.Of(sp.Total), s.low)
	m.cfg.Metrics.free(s.vol.Name, sp.Free)
	return true
}

func (m *Monitor) checkVolume(ctx context.Context, s *volState) {
	if !m.measure(s) {
		return
	}
	log := m.cfg.Logger.With("volume", s.vol.Name, "path", s.vol.Path)
	free, high, low := s.space.Free, s.high, s.low
	if free < low && len(s.vol.Endpoints) > 0 && m.cfg.Reclaimer != nil {
		m.reclaim(ctx, s, log)
		m.mu.Lock()
		free = s.space.Free
		m.mu.Unlock()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	switch {
	case free >= high:
		if s.warned {
			log.Info("disk policy: free space back above disk.high_free", "free", free, "high", high)
		}
		if s.refusing {
			log.Info("disk policy: new recordings on the volume are taken again", "free", free)
		}
		s.warned, s.refusing = false, false
	case free < low:
		if !s.refusing {
			log.Warn("disk policy: free space below disk.low_free and nothing may be deleted: refusing new recordings on the volume",
				"free", free, "low", low)
		}
		s.warned, s.refusing = true, true
	default:
		if !s.warned {
			log.Warn("disk policy: free space below disk.high_free", "free", free, "high", high)
		}
		s.warned = true
	}
	m.cfg.Metrics.set(s.vol.Name, s.warned, s.refusing)
}

// maxRounds bounds the deletions of one check, should a reclaimer keep offering files.
const maxRounds = 1000

// reclaim deletes the oldest overwritable files on the volume until it is above the high mark,
// or nothing is left to delete.
func (m *Monitor) reclaim(ctx context.Context, s *volState, log *slog.Logger) {
	var files int
	var bytes int64
	defer func() {
		if files > 0 {
			log.Info("disk policy: deleted the oldest overwritable files", "files", files, "bytes", bytes,
				"free", s.spaceFree(&m.mu))
		}
	}()
	for range maxRounds {
		m.mu.Lock()
		need := s.high - s.space.Free
		m.mu.Unlock()
		if need <= 0 || ctx.Err() != nil {
			return
		}
		var cand []store.DueFile
		for _, ep := range s.vol.Endpoints {
			fs, err := m.cfg.Reclaimer.OldestOverwritable(ctx, ep, m.cfg.Batch)
			if err != nil {
				log.Error("disk policy: listing overwritable files", "endpoint", ep, "err", err)
				continue
			}
			cand = append(cand, fs...)
		}
		if len(cand) == 0 {
			return
		}
		// Oldest first across the volume's endpoints, as many as cover what is missing.
		slices.SortStableFunc(cand, func(a, b store.DueFile) int { return a.File.StartedAt.Compare(b.File.StartedAt) })
		k, sum := 0, int64(0)
		for k < len(cand) && (k == 0 || sum < need) {
			sum += cand[k].File.Bytes
			k++
		}
		n, b, err := m.cfg.Reclaimer.Delete(ctx, cand[:k], recording.DeleteDiskFull)
		files, bytes = files+n, bytes+b
		if err != nil {
			log.Error("disk policy: deleting overwritable files", "err", err)
		}
		if n == 0 || !m.measure(s) {
			return
		}
	}
}

func (s *volState) spaceFree(mu *sync.Mutex) int64 {
	mu.Lock()
	defer mu.Unlock()
	return s.space.Free
}

// human writes a byte count for people.
func human(n int64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB"}
	v, i := float64(n), 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	if i == 0 {
		return strconv.FormatInt(n, 10) + " B"
	}
	return strconv.FormatFloat(v, 'f', 1, 64) + " " + units[i]
}
