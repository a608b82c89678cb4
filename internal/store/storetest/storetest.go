// Package storetest is the contract suite every store driver runs (river's riverdrivertest
// shape): a driver's test calls Exercise with a factory of fresh, migrated, empty stores.
package storetest

import (
	"context"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/store"
)

// Driver is what a store driver implements: the recorder's Store, the management APIs'
// Control, the events' Outbox and the Catalog.
type Driver interface {
	store.Store
	store.Control
	store.Outbox
	store.PublishAuthStore
	store.Catalog
	store.Retention
	store.Cluster
	store.AuthFailures
}

// Exercise runs the whole contract against the driver behind newStore. newStore must return a
// fresh, empty store and close it in t.Cleanup; subtests run in parallel, one store each.
func Exercise(t *testing.T, newStore func(t *testing.T) Driver) {
	t.Helper()
	base := func(t *testing.T) store.Store { return newStore(t) }
	t.Run("Ping", func(t *testing.T) {
		t.Parallel()
		require.NoError(t, newStore(t).Ping(t.Context()))
	})
	t.Run("Rule", func(t *testing.T) { exerciseRules(t, base) })
	t.Run("RuleList", func(t *testing.T) { exerciseRuleList(t, base) })
	t.Run("Recording", func(t *testing.T) { exerciseRecordings(t, base) })
	t.Run("File", func(t *testing.T) { exerciseFiles(t, base) })
	t.Run("Seed", func(t *testing.T) { exerciseSeed(t, base) })

	control := func(t *testing.T) store.Control { return newStore(t) }
	t.Run("Callback", func(t *testing.T) { exerciseCallbacks(t, control) })
	t.Run("CallbackList", func(t *testing.T) { exerciseCallbackList(t, control) })
	t.Run("AccessKey", func(t *testing.T) { exerciseAccessKeys(t, control) })
	t.Run("Token", func(t *testing.T) { exerciseTokens(t, control) })
	t.Run("Domain", func(t *testing.T) { exerciseDomains(t, control) })
	t.Run("Nonce", func(t *testing.T) { exerciseNonces(t, control) })

	t.Run("Outbox", func(t *testing.T) { exerciseOutbox(t, newStore) })
	t.Run("Claim", func(t *testing.T) { exerciseClaims(t, newStore) })
	t.Run("Delivery", func(t *testing.T) { exerciseDeliveries(t, newStore) })

	t.Run("PublishAuth", func(t *testing.T) {
		exercisePublishAuth(t, func(t *testing.T) store.PublishAuthStore { return newStore(t) })
	})

	t.Run("RecordingCatalog", func(t *testing.T) { exerciseRecordingCatalog(t, base) })
	t.Run("FileCatalog", func(t *testing.T) { exerciseFileCatalog(t, newStore) })
	t.Run("Slice", func(t *testing.T) { exerciseSlices(t, newStore) })
	t.Run("Index", func(t *testing.T) { exerciseIndexes(t, newStore) })
	t.Run("Block", func(t *testing.T) { exerciseBlocks(t, newStore) })
	t.Run("Publish", func(t *testing.T) { exercisePublishes(t, newStore) })
	t.Run("Task", func(t *testing.T) { exerciseTasks(t, newStore) })
	t.Run("Retention", func(t *testing.T) { exerciseRetention(t, newStore) })

	cluster := func(t *testing.T) ClusterDriver { return newStore(t) }
	t.Run("Node", func(t *testing.T) { exerciseNodes(t, cluster) })
	t.Run("Lease", func(t *testing.T) { exerciseLeases(t, cluster) })
	t.Run("Orphan", func(t *testing.T) { exerciseOrphans(t, cluster) })
	t.Run("Meta", func(t *testing.T) { exerciseMeta(t, cluster) })
	t.Run("AuthFailures", func(t *testing.T) { exerciseAuthFailures(t, newStore) })
}

var idPattern = map[string]*regexp.Regexp{
	store.RulePrefix:      regexp.MustCompile(`^r_[0-9a-f]{16}$`),
	store.RecordingPrefix: regexp.MustCompile(`^rec_[0-9a-f]{16}$`),
	store.FilePrefix:      regexp.MustCompile(`^f_[0-9a-f]{16}$`),
	store.CallbackPrefix:  regexp.MustCompile(`^cb_[0-9a-f]{16}$`),
	store.TokenPrefix:     regexp.MustCompile(`^tok_[0-9a-f]{16}$`),
	store.EventPrefix:     regexp.MustCompile(`^ev_[0-9a-f]{16}$`),
	store.DeliveryPrefix:  regexp.MustCompile(`^dl_[0-9a-f]{16}$`),
}

// rule returns a valid, normalised native rule for the key.
func rule(project, domain, app, stream string) *recording.Rule {
	r := recording.DefaultRule()
	r.Project, r.Domain, r.App, r.Stream = project, domain, app, stream
	r.Normalize()
	return &r
}

func insertRule(ctx context.Context, t *testing.T, s store.Store, project, domain, app, stream string) *recording.Rule {
	t.Helper()
	r := rule(project, domain, app, stream)
	require.NoError(t, s.RuleInsert(ctx, r))
	return r
}

func ids[T any](items []T, id func(T) string) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = id(it)
	}
	return out
}

func ruleID(r recording.Rule) string           { return r.ID }
func recordingID(r recording.Recording) string { return r.ID }
func fileID(f recording.File) string           { return f.ID }

// odd returns a time the database cannot keep as is: a zone, a monotonic reading and
// nanoseconds. Drivers store it in UTC at microsecond precision.
func odd(offset time.Duration) time.Time {
	zone := time.FixedZone("UTC+8", 8*3600)
	return time.Date(2026, 3, 4, 5, 6, 7, 123456789, zone).Add(offset)
}

func normalised(t time.Time) time.Time {
	return t.UTC().Truncate(time.Microsecond)
}
