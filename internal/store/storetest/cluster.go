package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/store"
)

// ClusterDriver is a Driver with the cluster tables.
type ClusterDriver interface {
	store.Store
	store.Cluster
	store.Outbox
}

func exerciseNodes(t *testing.T, newStore func(t *testing.T) ClusterDriver) {
	t.Parallel()
	ctx, s := t.Context(), newStore(t)
	start := odd(0)
	a := &store.Node{ID: "node-a", HTTPAddr: ":8080", RTMPAddr: ":1935", Version: "v1", StartedAt: start, BeatAt: start}
	b := &store.Node{ID: "node-b", HTTPAddr: ":8081", RTMPAddr: ":1936", Version: "v1", StartedAt: start, BeatAt: start.Add(5 * time.Second)}
	require.NoError(t, s.NodeBeat(ctx, a))
	require.NoError(t, s.NodeBeat(ctx, b))
	require.Equal(t, normalised(start), a.BeatAt, "times are normalised as stored")

	nodes, err := s.NodeList(ctx, start.Add(-time.Second))
	require.NoError(t, err)
	require.Equal(t, []store.Node{*a, *b}, nodes)
	nodes, err = s.NodeList(ctx, start)
	require.NoError(t, err)
	require.Equal(t, []string{"node-b"}, ids(nodes, func(n store.Node) string { return n.ID }), "a beat at since is not after it")

	a.BeatAt = start.Add(10 * time.Second)
	require.NoError(t, s.NodeBeat(ctx, a))
	nodes, err = s.NodeList(ctx, start.Add(6*time.Second))
	require.NoError(t, err)
	require.Equal(t, []store.Node{*a}, nodes, "a heartbeat renews")

	_, err = s.LeaseAcquire(ctx, "d/live/s", "node-a", start, start.Add(10*time.Second))
	require.NoError(t, err)
	require.NoError(t, s.NodeLeave(ctx, "node-a"))
	nodes, err = s.NodeList(ctx, time.Time{})
	require.NoError(t, err)
	require.Equal(t, []string{"node-a", "node-b"}, ids(nodes, func(n store.Node) string { return n.ID }),
		"a node that left stays listed until its heartbeat expires")
	holder, err := s.LeaseAcquire(ctx, "d/live/s", "node-b", start, start.Add(10*time.Second))
	require.NoError(t, err, "a node that left has no leases")
	require.Equal(t, "node-b", holder)
}

func exerciseLeases(t *testing.T, newStore func(t *testing.T) ClusterDriver) {
	t.Parallel()
	ctx, s := t.Context(), newStore(t)
	start := odd(0)
	const key = "d.com/live/s1"

	holder, err := s.LeaseAcquire(ctx, key, "a", start, start.Add(10*time.Second))
	require.NoError(t, err)
	require.Equal(t, "a", holder)

	holder, err = s.LeaseAcquire(ctx, key, "b", start.Add(time.Second), start.Add(11*time.Second))
	require.ErrorIs(t, err, recording.ErrConflict, "another node's live lease refuses")
	require.Equal(t, "a", holder)

	_, err = s.LeaseAcquire(ctx, key, "a", start.Add(time.Second), start.Add(20*time.Second))
	require.NoError(t, err, "the holder renews by acquiring again")
	_, err = s.LeaseAcquire(ctx, key, "b", start.Add(15*time.Second), start.Add(25*time.Second))
	require.ErrorIs(t, err, recording.ErrConflict, "the renewed lease still holds")

	lost, err := s.LeaseRenew(ctx, "a", []string{key, "d.com/live/never"}, start.Add(30*time.Second))
	require.NoError(t, err)
	require.Equal(t, []string{"d.com/live/never"}, lost)

	holder, err = s.LeaseAcquire(ctx, key, "b", start.Add(30*time.Second), start.Add(40*time.Second))
	require.NoError(t, err, "an expired lease goes to the next node")
	require.Equal(t, "b", holder)
	lost, err = s.LeaseRenew(ctx, "a", []string{key}, start.Add(50*time.Second))
	require.NoError(t, err)
	require.Equal(t, []string{key}, lost, "the old holder learns it lost the key")

	require.NoError(t, s.LeaseRelease(ctx, key, "a"), "releasing another node's lease does nothing")
	_, err = s.LeaseAcquire(ctx, key, "c", start.Add(31*time.Second), start.Add(41*time.Second))
	require.ErrorIs(t, err, recording.ErrConflict)
	require.NoError(t, s.LeaseRelease(ctx, key, "b"))
	_, err = s.LeaseAcquire(ctx, key, "c", start.Add(31*time.Second), start.Add(41*time.Second))
	require.NoError(t, err, "a released key is free at once")

	many := make([]string, 1200)
	for i := range many {
		many[i] = "d.com/live/m" + string(rune('a'+i%26)) + time.Duration(i).String()
		_, aerr := s.LeaseAcquire(ctx, many[i], "c", start, start.Add(time.Minute))
		require.NoError(t, aerr)
	}
	lost, err = s.LeaseRenew(ctx, "c", many, start.Add(2*time.Minute))
	require.NoError(t, err)
	require.Empty(t, lost, "renewing more keys than one statement's batch")
}

func exerciseOrphans(t *testing.T, newStore func(t *testing.T) ClusterDriver) {
	t.Parallel()
	ctx, s := t.Context(), newStore(t)
	start := odd(0)
	r := insertRule(ctx, t, s, "p", "d.com", "*", "*")
	require.NoError(t, s.NodeBeat(ctx, &store.Node{ID: "live", StartedAt: start, BeatAt: start.Add(time.Minute)}))
	require.NoError(t, s.NodeBeat(ctx, &store.Node{ID: "dead", StartedAt: start, BeatAt: start}))
	mk := func(node string, state recording.State, after time.Duration, ended bool) *recording.Recording {
		rec := &recording.Recording{Project: "p", RuleID: r.ID, Domain: "d.com", App: "live", Stream: "s",
			State: state, StartedAt: start.Add(after), Node: node}
		if ended {
			end := start.Add(after + time.Second)
			rec.EndedAt = &end
		}
		require.NoError(t, s.RecordingInsert(ctx, rec))
		return rec
	}
	mk("live", recording.RecordingActive, 0, false)
	deadPaused := mk("dead", recording.RecordingPaused, 2*time.Second, false)
	deadActive := mk("dead", recording.RecordingActive, time.Second, false)
	mk("dead", recording.RecordingOver, 0, true)
	unknown := mk("gone", recording.RecordingActive, 3*time.Second, false)

	recs, err := s.RecordingsOrphaned(ctx, start.Add(30*time.Second), 0)
	require.NoError(t, err)
	require.Equal(t, []string{deadActive.ID, deadPaused.ID, unknown.ID}, ids(recs, nodeRecordingID))
	require.Equal(t, "dead", recs[0].Recording.Node)
	require.Equal(t, normalised(start), recs[0].NodeBeat, "with the dead node's last beat")
	recs, err = s.RecordingsOrphaned(ctx, start.Add(30*time.Second), 1)
	require.NoError(t, err)
	require.Len(t, recs, 1)
	recs, err = s.RecordingsOrphaned(ctx, start.Add(-time.Second), 0)
	require.NoError(t, err)
	require.Equal(t, []string{unknown.ID}, ids(recs, nodeRecordingID), "only a node that never registered is dead then")
	require.True(t, recs[0].NodeBeat.IsZero())

	live, err := s.LiveRecordingOf(ctx, "d.com", "live", "s")
	require.NoError(t, err)
	require.Equal(t, unknown.ID, live.Recording.ID, "the newest live recording of the key")
	_, err = s.LiveRecordingOf(ctx, "d.com", "live", "none")
	require.ErrorIs(t, err, recording.ErrNotFound)

	require.NoError(t, s.RecordingAdopt(ctx, deadActive.ID, "dead", "live"))
	require.ErrorIs(t, s.RecordingAdopt(ctx, deadActive.ID, "dead", "other"), recording.ErrConflict,
		"two nodes adopting: the second loses")
	require.ErrorIs(t, s.RecordingAdopt(ctx, "rec_none", "dead", "live"), recording.ErrNotFound)
	got, err := s.RecordingGet(ctx, "p", deadActive.ID)
	require.NoError(t, err)
	require.Equal(t, "live", got.Node)
	recs, err = s.RecordingsOrphaned(ctx, start.Add(30*time.Second), 0)
	require.NoError(t, err)
	require.Equal(t, []string{deadPaused.ID, unknown.ID}, ids(recs, nodeRecordingID))

	// The node that lost it cannot end it; the node that has it can.
	end := start.Add(time.Minute)
	over := *deadActive
	over.State, over.EndedAt = recording.RecordingOver, &end
	require.ErrorIs(t, s.Apply(ctx, store.Change{RecordingUpdate: &over, RecordingOwner: "dead"}), recording.ErrConflict)
	got, err = s.RecordingGet(ctx, "p", deadActive.ID)
	require.NoError(t, err)
	require.Equal(t, recording.RecordingActive, got.State, "nothing written")
	require.NoError(t, s.Apply(ctx, store.Change{RecordingUpdate: &over, RecordingOwner: "live"}))
	require.ErrorIs(t, s.RecordingAdopt(ctx, deadActive.ID, "live", "other"), recording.ErrConflict,
		"an ended recording is not adopted")
	legacy := mk("", recording.RecordingActive, 4*time.Second, false)
	legacy.State = recording.RecordingPaused
	require.NoError(t, s.Apply(ctx, store.Change{RecordingUpdate: legacy, RecordingOwner: "live"}),
		"a recording of no node is anyone's")
}

func exerciseMeta(t *testing.T, newStore func(t *testing.T) ClusterDriver) {
	t.Parallel()
	ctx, s := t.Context(), newStore(t)
	got, err := s.MetaEnsure(ctx, "check", "first")
	require.NoError(t, err)
	require.Equal(t, "first", got)
	got, err = s.MetaEnsure(ctx, "check", "second")
	require.NoError(t, err)
	require.Equal(t, "first", got, "the first value stays")
	got, err = s.MetaEnsure(ctx, "other", "x")
	require.NoError(t, err)
	require.Equal(t, "x", got)
}

func nodeRecordingID(r store.NodeRecording) string { return r.Recording.ID }
