package ondemand

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// req1 is a typical request: an H.264 stream at 2 Mbit/s.
func req1() Request {
	return Request{Domain: "a.com", App: "live", Stream: "s1", Codec: "h264", VideoKbps: 2000}
}

// seen is what the test server received.
type seen struct {
	method, path, rawQuery, userAgent string
	body                              int
}

func recordingServer(t *testing.T, reply string) (*httptest.Server, chan seen) {
	t.Helper()
	ch := make(chan seen, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		ch <- seen{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Get("User-Agent"), len(b)}
		_, _ = io.WriteString(w, reply)
	}))
	t.Cleanup(srv.Close)
	return srv, ch
}

func TestAskQuery(t *testing.T) {
	t.Parallel()
	srv, ch := recordingServer(t, `{"NeedRecord":true}`)
	r, err := (&Asker{}).Ask(context.Background(), srv.URL, req1())
	require.NoError(t, err)
	require.True(t, r.NeedRecord)
	// The seed's sample request: GET /?app=..&domain=..&stream=..&vbitrate=..&codec=..
	require.Equal(t, seen{method: "GET", path: "/",
		rawQuery:  "app=live&domain=a.com&stream=s1&vbitrate=2000&codec=h264",
		userAgent: "liverec"}, <-ch)
}

func TestAskQueryKeepsURLQuery(t *testing.T) {
	t.Parallel()
	srv, ch := recordingServer(t, `{"NeedRecord":false}`)
	audioOnly := Request{Domain: "b.com", App: "a p", Stream: "x~y", VideoKbps: -1}
	r, err := (&Asker{}).Ask(context.Background(), srv.URL+"/cb/ondemand?token=a%2Fb&app=evil&&flag#frag", audioOnly)
	require.NoError(t, err)
	require.False(t, r.NeedRecord)
	s := <-ch
	require.Equal(t, "/cb/ondemand", s.path)
	// The URL's own parameters stay as written; ours replace any of the same name.
	require.Equal(t, "token=a%2Fb&flag&app=a+p&domain=b.com&stream=x~y&vbitrate=0&codec=", s.rawQuery)
}

func TestAskStatus(t *testing.T) {
	t.Parallel()
	for _, code := range []int{http.StatusInternalServerError, http.StatusNoContent, http.StatusNotFound} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(code)
			_, _ = io.WriteString(w, `{"NeedRecord":true}`)
		}))
		_, err := (&Asker{}).Ask(context.Background(), srv.URL, req1())
		srv.Close()
		requireReason(t, err, ErrStatus)
		var e *Error
		require.ErrorAs(t, err, &e)
		require.Equal(t, code, e.Status)
		require.Contains(t, err.Error(), "status")
	}
}

func TestAskRedirectNotFollowed(t *testing.T) {
	t.Parallel()
	var followed atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("/yes", func(w http.ResponseWriter, _ *http.Request) {
		followed.Add(1)
		_, _ = io.WriteString(w, `{"NeedRecord":true}`)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/yes", http.StatusFound)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	// Even a caller's client that follows redirects does not follow them here.
	for _, a := range []*Asker{{}, {Client: &http.Client{}}} {
		_, err := a.Ask(context.Background(), srv.URL, req1())
		requireReason(t, err, ErrStatus)
		var e *Error
		require.ErrorAs(t, err, &e)
		require.Equal(t, http.StatusFound, e.Status)
	}
	require.Zero(t, followed.Load())
}

func TestAskTimeout(t *testing.T) {
	t.Parallel()
	// The server sleeps longer than the timeout, before the headers or in the middle of the body.
	for name, h := range map[string]http.HandlerFunc{
		"Headers": func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-time.After(2 * time.Second):
			case <-r.Context().Done():
			}
			_, _ = io.WriteString(w, `{"NeedRecord":true}`)
		},
		"Body": func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, `{"NeedRecord":`)
			w.(http.Flusher).Flush()
			select {
			case <-time.After(2 * time.Second):
			case <-r.Context().Done():
			}
			_, _ = io.WriteString(w, `true}`)
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(h)
			t.Cleanup(srv.Close)
			start := time.Now()
			_, err := (&Asker{Timeout: 100 * time.Millisecond}).Ask(context.Background(), srv.URL, req1())
			requireReason(t, err, ErrTimeout)
			require.Less(t, time.Since(start), time.Second)
		})
	}
}

func TestAskCanceled(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	_, err := (&Asker{}).Ask(ctx, srv.URL, req1())
	requireReason(t, err, ErrCanceled)
	require.ErrorIs(t, err, context.Canceled)

	// The caller's own deadline is a timeout.
	ctx, cancel = context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = (&Asker{}).Ask(ctx, srv.URL, req1())
	requireReason(t, err, ErrTimeout)
}

func TestAskTransport(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there any more
	_, err := (&Asker{}).Ask(context.Background(), url, req1())
	requireReason(t, err, ErrTransport)

	// A connection closed in the middle of a declared body.
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Length", "100")
		_, _ = io.WriteString(w, `{"NeedRecord":true}`)
		conn, _, herr := http.NewResponseController(w).Hijack()
		if herr == nil {
			_ = conn.Close()
		}
	}))
	t.Cleanup(srv.Close)
	_, err = (&Asker{}).Ask(context.Background(), srv.URL, req1())
	requireReason(t, err, ErrTransport)
}

func TestAskBadURL(t *testing.T) {
	t.Parallel()
	for _, u := range []string{"", "ftp://a.com/x", "/relative", "http://", "http://a b.com/", "://x"} {
		_, err := (&Asker{}).Ask(context.Background(), u, req1())
		requireReason(t, err, ErrURL)
	}
}

func TestAskLongBodyIsBounded(t *testing.T) {
	t.Parallel()
	// A decision in the first bytes, then far more than is ever read: Ask answers at once.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, `{"NeedRecord":true}`+strings.Repeat(" ", DefaultMaxBody))
		chunk := []byte(strings.Repeat("z", 32<<10))
		for range 1 << 10 { // up to 32 MiB, stopped by the client closing the connection
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	r, err := (&Asker{}).Ask(context.Background(), srv.URL, req1())
	require.NoError(t, err)
	require.True(t, r.NeedRecord)
}

func TestAskNilAskerAndMaxBody(t *testing.T) {
	t.Parallel()
	srv, _ := recordingServer(t, `{"NeedRecord":true,"Pad":"xxxxxxxxxxxxxxxxxxxx"}`)
	var a *Asker
	r, err := a.Ask(context.Background(), srv.URL, req1())
	require.NoError(t, err)
	require.True(t, r.NeedRecord)

	srv, _ = recordingServer(t, `{"NeedRecord":true,"Pad":"xxxxxxxxxxxxxxxxxxxx"}`)
	_, err = (&Asker{MaxBody: 16}).Ask(context.Background(), srv.URL, req1())
	requireReason(t, err, ErrTruncated)
}
