package app

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"path/filepath"
	"sort"
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
	nodes := twoNodes(t)
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

// twoNodes starts two apps on one database with one master key: two nodes of a deployment.
// tune, when set, changes each node's configuration before it starts.
func twoNodes(t *testing.T, tune ...func(*conf.Config)) []*testApp {
	t.Helper()
	db := "sqlite:" + filepath.Join(t.TempDir(), "shared.db")
	nodes := make([]*testApp, 2)
	for i := range nodes {
		c, err := conf.Load([]string{"--data", t.TempDir(), "--db", db, "--http", "127.0.0.1:0",
			"--rtmp", "127.0.0.1:0"}, func(k string) string { return testEnv[k] })
		require.NoError(t, err)
		c.MasterKey = strings.Repeat("6c", 32)
		for _, f := range tune {
			f(c)
		}
		log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
		a, err := New(t.Context(), c, log, io.Discard)
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(context.Background())
		ta := &testApp{App: a, cancel: cancel, done: make(chan error, 1), base: "http://" + a.HTTPAddr().String()}
		go func() { ta.done <- a.Run(ctx) }()
		t.Cleanup(func() { ta.stop(t) })
		nodes[i] = ta
	}
	return nodes
}

// TestNoncesAndTokensAcrossNodes: an Alibaba request replayed to another node with the same
// SignatureNonce is refused there, and a token works (and is revoked) on every node (§12:
// both live in the shared database).
func TestNoncesAndTokensAcrossNodes(t *testing.T) {
	nodes := twoNodes(t)
	params := map[string]string{"Action": "DescribeLiveRecordConfig", "DomainName": "a.com", "Format": "JSON",
		"Version": "2016-11-01", "AccessKeyId": testEnv["LIVEREC_ACCESS_KEY_ID"], "SignatureMethod": "HMAC-SHA1",
		"SignatureVersion": "1.0", "SignatureNonce": "0123456789abcdef0123456789abcdef",
		"Timestamp": time.Now().UTC().Format("2006-01-02T15:04:05Z")}
	params["Signature"] = popSign(testEnv["LIVEREC_ACCESS_KEY_SECRET"], params)
	q := url.Values{}
	for k, v := range params {
		q.Set(k, v)
	}
	call := func(ta *testApp) (int, string) {
		resp, err := http.Get(ta.base + "/?" + q.Encode())
		require.NoError(t, err)
		defer func() { _ = resp.Body.Close() }()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, string(b)
	}
	_, body := call(nodes[0])
	require.Contains(t, body, "InvalidDomain.NotFound", "authenticated on the first node (the domain is none of its)")
	code, body := call(nodes[1])
	require.Equal(t, http.StatusBadRequest, code)
	require.Contains(t, body, "SignatureNonceUsed", "the other node knows the nonce is spent")

	// A token made on one node works on the other, and its revocation too.
	req, err := http.NewRequest(http.MethodPost, nodes[0].base+"/api/v1/tokens", strings.NewReader(`{}`))
	require.NoError(t, err)
	req.SetBasicAuth(testEnv["LIVEREC_ACCESS_KEY_ID"], testEnv["LIVEREC_ACCESS_KEY_SECRET"])
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	var tok struct {
		ID    string `json:"id"`
		Token string `json:"token"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&tok))
	_ = resp.Body.Close()
	require.NotEmpty(t, tok.Token)
	whoami := func(ta *testApp) int {
		r, rerr := http.NewRequest(http.MethodGet, ta.base+"/api/v1/whoami", nil)
		require.NoError(t, rerr)
		r.Header.Set("Authorization", "Bearer "+tok.Token)
		res, rerr := http.DefaultClient.Do(r)
		require.NoError(t, rerr)
		_ = res.Body.Close()
		return res.StatusCode
	}
	require.Equal(t, http.StatusOK, whoami(nodes[1]), "a token of one node is the other's")
	del, err := http.NewRequest(http.MethodDelete, nodes[1].base+"/api/v1/tokens/"+tok.ID, nil)
	require.NoError(t, err)
	del.SetBasicAuth(testEnv["LIVEREC_ACCESS_KEY_ID"], testEnv["LIVEREC_ACCESS_KEY_SECRET"])
	resp, err = http.DefaultClient.Do(del)
	require.NoError(t, err)
	_ = resp.Body.Close()
	require.Less(t, resp.StatusCode, 300)
	require.Equal(t, http.StatusUnauthorized, whoami(nodes[0]), "revoked on one node, refused on the other")
}

// popSign signs Alibaba RPC parameters (signature v1: HMAC-SHA1 over the sorted, encoded
// query), as the official SDKs do.
func popSign(secret string, params map[string]string) string {
	enc := func(s string) string {
		e := url.QueryEscape(s)
		e = strings.ReplaceAll(e, "+", "%20")
		e = strings.ReplaceAll(e, "*", "%2A")
		return strings.ReplaceAll(e, "%7E", "~")
	}
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	pairs := make([]string, len(keys))
	for i, k := range keys {
		pairs[i] = enc(k) + "=" + enc(params[k])
	}
	m := hmac.New(sha1.New, []byte(secret+"&"))
	m.Write([]byte("GET&" + enc("/") + "&" + enc(strings.Join(pairs, "&"))))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}
