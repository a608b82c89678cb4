package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/conf"
	"github.com/liverec/liverec/internal/preroll"
	"github.com/liverec/liverec/internal/recording"
)

// TestPeerErrorsKeepTheirKind: a record command's error crosses to another node and is still
// the sentinel the APIs map to their dialect's error.
func TestPeerErrorsKeepTheirKind(t *testing.T) {
	for _, sentinel := range []error{recording.ErrNotLive, recording.ErrCommandState, recording.ErrCommandTooSoon,
		recording.ErrConflict, recording.ErrForbidden} {
		require.ErrorIs(t, toPeerError(errors.Join(errors.New("ctx"), sentinel)).err(), sentinel)
	}
	require.ErrorIs(t, toPeerError(fmt.Errorf("x: %w", preroll.ErrEnded)).err(), preroll.ErrEnded)
	var le *preroll.LimitError
	require.ErrorAs(t, toPeerError(&preroll.LimitError{Max: 7 * time.Second}).err(), &le)
	require.Equal(t, 7*time.Second, le.Max, "the limit crosses with its value")
	require.NoError(t, toPeerError(nil).err())
	require.ErrorContains(t, toPeerError(errors.New("disk on fire")).err(), "disk on fire")
}

// TestPeersAnswerForTheirStreams: two nodes on one database reach each other with the key
// derived from their master key; a command for a stream live nowhere is ErrNotLive after
// asking the other node, and a caller without the key is refused.
func TestPeersAnswerForTheirStreams(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "shared.db")
	nodes := make([]*testApp, 2)
	for i := range nodes {
		c, err := conf.Load([]string{"--data", t.TempDir(), "--db", db, "--http", "127.0.0.1:0",
			"--rtmp", "127.0.0.1:0"}, func(k string) string { return testEnv[k] })
		require.NoError(t, err)
		c.MasterKey = strings.Repeat("6c", 32)
		log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
		a, err := New(t.Context(), c, log, io.Discard)
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(context.Background())
		ta := &testApp{App: a, cancel: cancel, done: make(chan error, 1), base: "http://" + a.HTTPAddr().String()}
		go func() { ta.done <- a.Run(ctx) }()
		t.Cleanup(func() { ta.stop(t) })
		nodes[i] = ta
	}
	require.Equal(t, nodes[0].peerKey, nodes[1].peerKey, "one key from one master key")
	require.Eventually(t, func() bool {
		peers, err := nodes[1].Nodes(t.Context())
		return err == nil && len(peers) == 2
	}, 10*time.Second, 20*time.Millisecond, "both nodes joined")

	called := 0
	nodes[1].callPeers(t.Context(), "streams", nil, func(string, io.Reader) { called++ })
	require.Equal(t, 1, called, "node 1 reached node 0")
	require.Empty(t, nodes[1].Live().LiveStreams())
	err := nodes[1].RecordCommand(t.Context(), "default", "a.com", "live", "nowhere", recording.CommandStart)
	require.ErrorIs(t, err, recording.ErrNotLive)
	require.False(t, nodes[1].Live().Kick("a.com", "live", "nowhere", "test"))
	_, err = nodes[1].StartEvent(t.Context(), "default", "a.com", "live", "nowhere", preroll.Event{Post: time.Second})
	require.ErrorIs(t, err, recording.ErrNotLive)

	req, err := http.NewRequest(http.MethodGet, nodes[0].base+peerPrefix+"streams", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+strings.Repeat("0", 64))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	_ = resp.Body.Close()
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
}
