package e2e

// Helpers of TestRulesOnDemandURL (rules_test.go): the business servers liverec talks to.

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
)

// onDemandAsk is one question liverec asked the on-demand server.
type onDemandAsk struct {
	path, token, domain, app, stream, codec string
}

// onDemandServer is a business server on loopback answering liverec's on-demand question
// (internal/ondemand: GET {url}?app=&domain=&stream=&vbitrate=&codec=, reply
// {"ApiVersion":"1.0","NeedRecord":…}): yes to every stream but those named skip…, and it keeps
// every question.
type onDemandServer struct {
	*httptest.Server
	mu   sync.Mutex
	asks []onDemandAsk
}

func newOnDemandServer(t *testing.T) *onDemandServer {
	t.Helper()
	s := &onDemandServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		s.mu.Lock()
		s.asks = append(s.asks, onDemandAsk{path: r.URL.Path, token: q.Get("token"), domain: q.Get("domain"),
			app: q.Get("app"), stream: q.Get("stream"), codec: q.Get("codec")})
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"ApiVersion":"1.0","NeedRecord":%t}`, !strings.HasPrefix(q.Get("stream"), "skip"))
	}))
	t.Cleanup(s.Close)
	return s
}

// asked returns the question about stream, if there was one.
func (s *onDemandServer) asked(stream string) (onDemandAsk, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range s.asks {
		if a.stream == stream {
			return a, true
		}
	}
	return onDemandAsk{}, false
}

// webhookReceiver takes Standard Webhooks deliveries and checks each signature with key.
type webhookReceiver struct {
	*httptest.Server
	mu       sync.Mutex
	verified int
	bad      []string
}

func newWebhookReceiver(t *testing.T, key string) *webhookReceiver {
	t.Helper()
	rcv := &webhookReceiver{}
	rcv.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		id, ts := r.Header.Get("Webhook-Id"), r.Header.Get("Webhook-Timestamp")
		mac := hmac.New(sha256.New, []byte(key))
		mac.Write([]byte(id + "." + ts + "."))
		mac.Write(body)
		want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
		ok := err == nil && slices.Contains(strings.Fields(r.Header.Get("Webhook-Signature")), want)
		rcv.mu.Lock()
		if ok {
			rcv.verified++
		} else {
			rcv.bad = append(rcv.bad, r.Header.Get("Webhook-Signature"))
		}
		rcv.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(rcv.Close)
	return rcv
}

func (r *webhookReceiver) counts() (verified int, bad []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.verified, append([]string(nil), r.bad...)
}

// apiCallback is the part of a callback configuration the on-demand test reads.
type apiCallback struct {
	ID               string   `json:"id"`
	Dialect          string   `json:"dialect"`
	Domain           string   `json:"domain"`
	App              string   `json:"app"`
	URL              string   `json:"url"`
	OnDemandURL      string   `json:"on_demand_url"`
	Events           []string `json:"events"`
	NeedStatusNotify bool     `json:"need_status_notify"`
	SignType         string   `json:"sign_type"`
	HasKey           bool     `json:"has_key"`
	Enabled          bool     `json:"enabled"`
}

// callbacksOf lists the callback configurations of exactly domain/app, through the API.
func callbacksOf(t *testing.T, s *server, domain, app string) []apiCallback {
	t.Helper()
	var list struct {
		Callbacks []apiCallback `json:"callbacks"`
	}
	apiJSON(t, s, http.MethodGet, "/api/v1/callbacks?domain="+domain+"&app="+url.QueryEscape(app), nil, http.StatusOK, &list)
	return list.Callbacks
}

// recordingState is the state of the newest recording of stream ("" while there is none).
func recordingState(t *testing.T, s *server, stream string) string {
	t.Helper()
	var page struct {
		Items []struct {
			State string `json:"state"`
		} `json:"items"`
	}
	apiJSON(t, s, http.MethodGet, "/api/v1/recordings?stream="+stream, nil, http.StatusOK, &page)
	if len(page.Items) == 0 {
		return ""
	}
	return page.Items[0].State
}
