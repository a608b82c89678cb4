package app

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/liverec/liverec/internal/preroll"
	"github.com/liverec/liverec/internal/recording"
)

// Peers: a node reaches the publications of the other nodes through their HTTP listeners
// under peerPrefix, authenticated with a key every node derives from the shared master key. The
// live stream list shows every node's streams; a kick or a record command for a stream
// published on another node is carried out there.

const peerPrefix = "/internal/v1/"

// peerTimeout bounds one call to a peer: a list waits for the slowest peer.
const peerTimeout = 3 * time.Second

// maxPeerBody bounds what a peer call carries either way.
const maxPeerBody = 4 << 20

// derivePeerKey makes the peers' bearer key from the master key.
func derivePeerKey(master []byte) string {
	mac := hmac.New(sha256.New, master)
	mac.Write([]byte("liverec peers v1\n"))
	return hex.EncodeToString(mac.Sum(nil))
}

// advertisedHTTP is the address the other nodes reach this node's HTTP listener at:
// cluster.advertise_http, else the --http address, with the host name when it names no host.
func advertisedHTTP(configured, listen string) string {
	if configured != "" {
		return configured
	}
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return listen
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		if h, err := os.Hostname(); err == nil {
			return net.JoinHostPort(h, port)
		}
	}
	return listen
}

type peerKick struct {
	Domain string `json:"domain"`
	App    string `json:"app"`
	Stream string `json:"stream"`
	Reason string `json:"reason"`
}

type peerKicked struct {
	Kicked bool `json:"kicked"`
}

type peerEvent struct {
	Project string        `json:"project"`
	Domain  string        `json:"domain"`
	App     string        `json:"app"`
	Stream  string        `json:"stream"`
	Event   preroll.Event `json:"event"`
}

type peerEventStarted struct {
	Started preroll.Started `json:"started"`
	Error   peerError       `json:"error"`
}

type peerCommand struct {
	Project string            `json:"project"`
	Domain  string            `json:"domain"`
	App     string            `json:"app"`
	Stream  string            `json:"stream"`
	Command recording.Command `json:"command"`
}

// peerError carries a command's error back by kind, so sentinels survive the hop.
type peerError struct {
	Kind    string `json:"kind,omitempty"`
	Message string `json:"message,omitempty"`
	// Max is a pre-roll limit's (Kind "preroll_limit").
	Max time.Duration `json:"max,omitempty"`
}

var peerErrors = map[string]error{"not_live": recording.ErrNotLive, "state": recording.ErrCommandState,
	"too_soon": recording.ErrCommandTooSoon, "conflict": recording.ErrConflict, "forbidden": recording.ErrForbidden,
	"preroll_ended": preroll.ErrEnded}

func toPeerError(err error) peerError {
	if le := (*preroll.LimitError)(nil); errors.As(err, &le) {
		return peerError{Kind: "preroll_limit", Message: err.Error(), Max: le.Max}
	}
	for kind, sentinel := range peerErrors {
		if errors.Is(err, sentinel) {
			return peerError{Kind: kind, Message: err.Error()}
		}
	}
	if err != nil {
		return peerError{Kind: "other", Message: err.Error()}
	}
	return peerError{}
}

func (e peerError) err() error {
	switch {
	case e.Kind == "":
		return nil
	case e.Kind == "preroll_limit":
		return &preroll.LimitError{Max: e.Max}
	case peerErrors[e.Kind] != nil:
		return fmt.Errorf("%w (on another node)", peerErrors[e.Kind])
	}
	return fmt.Errorf("on another node: %s", e.Message)
}

// peerHandler serves the other nodes' calls.
func (a *App) peerHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+peerPrefix+"streams", func(w http.ResponseWriter, _ *http.Request) {
		writePeer(w, a.localLiveStreams())
	})
	mux.HandleFunc("POST "+peerPrefix+"kick", func(w http.ResponseWriter, r *http.Request) {
		var k peerKick
		if !readPeer(w, r, &k) {
			return
		}
		writePeer(w, peerKicked{Kicked: a.kickLocal(k.Domain, k.App, k.Stream, k.Reason)})
	})
	mux.HandleFunc("POST "+peerPrefix+"command", func(w http.ResponseWriter, r *http.Request) {
		var c peerCommand
		if !readPeer(w, r, &c) {
			return
		}
		writePeer(w, toPeerError(a.commandLocal(r.Context(), c.Project, c.Domain, c.App, c.Stream, c.Command)))
	})
	mux.HandleFunc("POST "+peerPrefix+"event", func(w http.ResponseWriter, r *http.Request) {
		var e peerEvent
		if !readPeer(w, r, &e) {
			return
		}
		st, err := a.startEventLocal(e.Project, e.Domain, e.App, e.Stream, e.Event)
		writePeer(w, peerEventStarted{Started: st, Error: toPeerError(err)})
	})
	mux.HandleFunc("POST "+peerPrefix+"plan", func(w http.ResponseWriter, r *http.Request) {
		var c peerCommand
		if !readPeer(w, r, &c) {
			return
		}
		a.planChangedLocal(r.Context(), c.Project, c.Domain, c.App, c.Stream)
		writePeer(w, peerError{})
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || a.peerKey == "" || !hmac.Equal([]byte(got), []byte(a.peerKey)) {
			http.Error(w, "not a peer", http.StatusUnauthorized)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

func readPeer(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(io.LimitReader(r.Body, maxPeerBody)).Decode(v); err != nil {
		http.Error(w, "bad peer request", http.StatusBadRequest)
		return false
	}
	return true
}

func writePeer(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// callPeers calls path on every other live node at once (body nil: GET) and hands each answer
// to each, in no particular order; failures are logged and skipped.
func (a *App) callPeers(ctx context.Context, path string, body any, each func(node string, r io.Reader)) {
	nodes, err := a.node.Nodes(ctx)
	if err != nil {
		a.log.Warn("listing the other nodes failed; answering for this node only", "err", err)
		return
	}
	var b []byte
	if body != nil {
		if b, err = json.Marshal(body); err != nil {
			return
		}
	}
	var (
		wg sync.WaitGroup
		mu sync.Mutex
	)
	for _, n := range nodes {
		if n.ID == a.node.ID() || n.HTTPAddr == "" {
			continue
		}
		wg.Go(func() {
			resp, err := a.peerCall(ctx, n.HTTPAddr, path, b)
			if err != nil {
				a.log.Warn("a call to another node failed; answering without it", "node", n.ID, "path", path, "err", err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			each(n.ID, bytes.NewReader(resp))
		})
	}
	wg.Wait()
}

func (a *App) peerCall(ctx context.Context, addr, path string, body []byte) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, peerTimeout)
	defer cancel()
	method, rd := http.MethodGet, io.Reader(nil)
	if body != nil {
		method, rd = http.MethodPost, bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://"+addr+peerPrefix+path, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+a.peerKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := a.peerClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	out, err := io.ReadAll(io.LimitReader(resp.Body, maxPeerBody))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s", resp.Status, strings.TrimSpace(string(out)))
	}
	return out, nil
}

// peerStreams returns the live streams of the other nodes, each with its node.
func (a *App) peerStreams(ctx context.Context) []recording.LiveStream {
	var all []recording.LiveStream
	a.callPeers(ctx, "streams", nil, func(node string, r io.Reader) {
		var ls []recording.LiveStream
		if err := json.NewDecoder(r).Decode(&ls); err != nil {
			a.log.Warn("another node's live streams do not read", "node", node, "err", err)
			return
		}
		for i := range ls {
			ls[i].Node = node
		}
		all = append(all, ls...)
	})
	return all
}

// peerKickStream asks the other nodes to kick a stream; true when one did.
func (a *App) peerKickStream(ctx context.Context, k peerKick) bool {
	kicked := false
	a.callPeers(ctx, "kick", k, func(_ string, r io.Reader) {
		var res peerKicked
		if json.NewDecoder(r).Decode(&res) == nil && res.Kicked {
			kicked = true
		}
	})
	return kicked
}

// peerCommandStream hands a record command to the node the stream publishes on:
// recording.ErrNotLive when none does.
func (a *App) peerCommandStream(ctx context.Context, c peerCommand) error {
	found := recording.ErrNotLive
	a.callPeers(ctx, "command", c, func(_ string, r io.Reader) {
		var res peerError
		if json.NewDecoder(r).Decode(&res) != nil {
			return
		}
		if err := res.err(); !errors.Is(err, recording.ErrNotLive) {
			found = err // the node it publishes on answered (nil: done)
		}
	})
	return found
}

// peerStartEvent starts an event recording on the node the stream publishes on:
// recording.ErrNotLive when none does.
func (a *App) peerStartEvent(ctx context.Context, e peerEvent) (preroll.Started, error) {
	var (
		st    preroll.Started
		found = recording.ErrNotLive
	)
	a.callPeers(ctx, "event", e, func(_ string, r io.Reader) {
		var res peerEventStarted
		if json.NewDecoder(r).Decode(&res) != nil {
			return
		}
		if err := res.Error.err(); !errors.Is(err, recording.ErrNotLive) {
			st, found = res.Started, err
		}
	})
	return st, found
}

// peerPlanChanged tells the other nodes that a stream's plan tasks changed: the node it
// publishes on hands them to its recording.
func (a *App) peerPlanChanged(ctx context.Context, c peerCommand) {
	a.callPeers(ctx, "plan", c, func(string, io.Reader) {})
}
