package authorize

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	promtest "github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/limit"
	"github.com/liverec/liverec/internal/pubauth"
	"github.com/liverec/liverec/internal/pubauth/webhook"
	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/secret"
	"github.com/liverec/liverec/internal/service"
	"github.com/liverec/liverec/internal/store/sqldb/sqldbtest"
	"github.com/liverec/liverec/internal/stream"
)

// fakeBlocks forbids the keys it holds, each until its time (zero: until deleted); err
// fails every read.
type fakeBlocks struct {
	mu     sync.Mutex
	blocks map[stream.Key]time.Time
	err    error
	asked  []time.Time
}

func (f *fakeBlocks) BlockGet(_ context.Context, domain, app, name string, now time.Time) (*recording.StreamBlock, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, now)
	if f.err != nil {
		return nil, f.err
	}
	until, ok := f.blocks[stream.Key{Domain: domain, App: app, Stream: name}]
	b := &recording.StreamBlock{Domain: domain, App: app, Stream: name}
	if !until.IsZero() {
		b.ResumeAt = &until
	}
	if !ok || !b.Active(now) {
		return nil, recording.ErrNotFound
	}
	return b, nil
}

// TestBlockedStreamRefused: a forbidden stream key is refused (reason forbidden, logged and
// counted, not held against the address), other keys and an expired block are admitted, and
// a block that cannot be read refuses.
func TestBlockedStreamRefused(t *testing.T) {
	t.Parallel()
	db := sqldbtest.OpenSQLiteAt(t, filepath.Join(t.TempDir(), "liverec.db"))
	box, err := secret.New(make([]byte, secret.KeySize))
	require.NoError(t, err)
	clock := time.Unix(1_700_000_000, 0)
	blocks := &fakeBlocks{blocks: map[stream.Key]time.Time{
		{Domain: "a.com", App: "live", Stream: "bad"}:  {},
		{Domain: "a.com", App: "live", Stream: "soon"}: clock.Add(time.Minute),
	}}
	var logs bytes.Buffer
	var logMu sync.Mutex
	z := New(Config{Settings: &service.Service{Store: db, Sealer: box}, Webhook: &webhook.Client{}, Blocks: blocks,
		Throttle: limit.NewThrottle(limit.ThrottleConfig{Limit: 1, Window: time.Minute, Cooldown: time.Minute,
			Now: func() time.Time { return clock }}),
		Logger: slog.New(slog.NewTextHandler(lockedWriter{&logMu, &logs}, nil)),
		Now:    func() time.Time { return clock }})
	publish := func(name string) error {
		return z.Authorize(t.Context(), stream.PublishRequest{Key: stream.Key{Domain: "a.com", App: "live", Stream: name},
			Remote: "127.0.0.2:5000"})
	}

	for range 2 {
		err = publish("bad")
		require.Equal(t, pubauth.ReasonForbidden, pubauth.ReasonOf(err), "%v", err)
	}
	require.Equal(t, 2.0, promtest.ToFloat64(z.refused.WithLabelValues("forbidden")))
	logMu.Lock()
	require.Contains(t, logs.String(), `reason=forbidden detail="stream is forbidden"`)
	logMu.Unlock()
	require.NoError(t, publish("good"), "a forbidden stream is no guess at credentials: the address is not throttled")

	err = publish("soon")
	require.Equal(t, pubauth.ReasonForbidden, pubauth.ReasonOf(err))
	require.Contains(t, err.Error(), "until 2023-11-14T22:14:20Z")
	clock = clock.Add(time.Minute)
	require.NoError(t, publish("soon"), "the block expired")
	blocks.mu.Lock()
	require.Equal(t, clock, blocks.asked[len(blocks.asked)-1], "the block is read at the authorizer's clock")
	blocks.err = errors.New("database is locked")
	blocks.mu.Unlock()
	err = publish("good")
	require.Equal(t, pubauth.ReasonUnavailable, pubauth.ReasonOf(err), "an unreadable block refuses (fail closed)")
	logMu.Lock()
	require.Contains(t, logs.String(), "database is locked")
	logMu.Unlock()
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
