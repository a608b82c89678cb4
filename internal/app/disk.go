package app

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/liverec/liverec/internal/conf"
	"github.com/liverec/liverec/internal/diskpolicy"
	"github.com/liverec/liverec/internal/filemode"
	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/retention"
	"github.com/liverec/liverec/internal/store"
)

// diskPolicy is the disk policy's monitor (docs/config.md, "Disk policy") with what the app
// learns for it: the names rules use for each local endpoint.
type diskPolicy struct {
	*diskpolicy.Monitor

	mu sync.Mutex
	// names are, per canonical endpoint, the names (the endpoint's own, its aliases, and those
	// a "*" alias caught) stored files carry in File.Endpoint: the uploader writes the rule's.
	names map[string][]string
}

// noteName remembers that name resolves to endpoint.
func (d *diskPolicy) noteName(endpoint, name string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !slices.Contains(d.names[endpoint], name) {
		d.names[endpoint] = append(d.names[endpoint], name)
	}
}

func (d *diskPolicy) namesOf(endpoint string) []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.names[endpoint])
}

// overwriteCandidates is the store's query for the disk policy (store.Retention).
type overwriteCandidates interface {
	OverwriteCandidates(ctx context.Context, endpoint string, limit int) ([]store.DueFile, error)
}

// newDiskPolicy builds the disk policy over the data dir, the spool and the local endpoints'
// roots; it deletes through a retention.Deleter. Roots are created here so that a volume can
// be measured before the first file lands in it.
func (a *App) newDiskPolicy(cands overwriteCandidates) (*diskPolicy, error) {
	c := a.conf
	d := &diskPolicy{names: map[string][]string{}}
	var roots []diskpolicy.EndpointRoot
	for _, e := range c.Storage.Endpoints {
		if e.Type != "local" {
			continue
		}
		if err := filemode.MkdirAll(e.Root, c.Storage.FileMode.Perm()); err != nil {
			return nil, fmt.Errorf("create the root of storage endpoint %s: %w", e.Name, err)
		}
		roots = append(roots, diskpolicy.EndpointRoot{Endpoint: e.Name, Root: e.Root})
		d.noteName(e.Name, e.Name)
		for _, al := range e.Aliases {
			if al != "*" {
				d.noteName(e.Name, al)
			}
		}
	}
	vols, err := diskpolicy.Volumes(c.Data, c.Storage.Spool, roots)
	if err != nil {
		return nil, err
	}
	del := &retention.Deleter{Objects: endpointObjects{a}, Slices: a.store, Marker: a.events,
		Metrics: a.deletedMetrics(), Logger: a.log.With("component", "diskpolicy")}
	d.Monitor, err = diskpolicy.New(diskpolicy.Config{
		Volumes:   vols,
		High:      diskMark(c.Disk.HighFree),
		Low:       diskMark(c.Disk.LowFree),
		Interval:  c.Disk.CheckInterval.D(),
		Reclaimer: &diskReclaimer{d: d, cands: cands, Deleter: del},
		Logger:    a.log.With("component", "diskpolicy"),
		Metrics:   diskpolicy.NewMetrics(a.reg),
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// deletedMetrics are the deletion counters by reason, registered once for every deleter.
func (a *App) deletedMetrics() *retention.Metrics {
	if a.delMet == nil {
		a.delMet = retention.NewMetrics(a.reg)
	}
	return a.delMet
}

func diskMark(f conf.FreeSpace) diskpolicy.Mark {
	return diskpolicy.Mark{Bytes: f.Bytes, Percent: f.Percent}
}

// diskReclaimer is the disk policy's diskpolicy.Reclaimer: the store's candidates under every
// name of the endpoint, deleted by the retention deleter.
type diskReclaimer struct {
	d     *diskPolicy
	cands overwriteCandidates
	*retention.Deleter
}

func (r *diskReclaimer) OldestOverwritable(ctx context.Context, endpoint string, limit int) ([]store.DueFile, error) {
	var all []store.DueFile
	for _, name := range r.d.namesOf(endpoint) {
		due, err := r.cands.OverwriteCandidates(ctx, name, limit)
		if err != nil {
			return nil, err
		}
		all = append(all, due...)
	}
	slices.SortStableFunc(all, func(x, y store.DueFile) int { return x.File.StartedAt.Compare(y.File.StartedAt) })
	return all[:min(len(all), limit)], nil
}

// endpointObjects removes objects from the endpoints by the names files carry.
type endpointObjects struct{ a *App }

func (o endpointObjects) Delete(ctx context.Context, endpoint, bucket, key string) error {
	st, err := o.a.endpoint(endpoint)
	if err != nil {
		return err
	}
	return st.Delete(ctx, bucket, key)
}

// diskRefusal says why the disk policy refuses a new recording by rule, or nil.
func (a *App) diskRefusal(rule *recording.Rule) error {
	if a.disk == nil {
		return nil
	}
	name, ok := a.endpointName(rule.Storage.Endpoint)
	if !ok {
		return a.disk.Refuse(rule.Storage.Endpoint) // not configured: only a spool volume can refuse it
	}
	a.disk.noteName(name, rule.Storage.Endpoint)
	return a.disk.Refuse(name)
}

// diskChecks adds a /readyz detail per watched volume: warnings never fail readiness (a volume
// short of space still records, or refuses with a reason).
func (a *App) diskChecks(checks map[string]string) {
	if a.disk == nil {
		return
	}
	high, low := a.disk.Marks()
	for _, s := range a.disk.Status() {
		checks["disk:"+s.Volume] = s.Detail(high, low)
	}
}
