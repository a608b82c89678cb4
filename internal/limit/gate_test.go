package limit

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func tcpAddr(s string) net.Addr { return net.TCPAddrFromAddrPort(netip.MustParseAddrPort(s)) }

func TestSource(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.1:5":            "192.0.2.1",
		"[::ffff:192.0.2.1]:5":   "192.0.2.1",
		"[2001:db8:1:2:3::4]:5":  "2001:db8:1:2::",
		"[fe80::1%eth0]:5":       "fe80::",
		"[2001:db8:1:3::ffff]:9": "2001:db8:1:3::",
	} {
		require.Equal(t, want, Source(tcpAddr(in)).String(), in)
	}
	require.False(t, Source(nil).IsValid())
	require.False(t, Source(&net.UnixAddr{Name: "x"}).IsValid())
}

func TestGate(t *testing.T) {
	var mu sync.Mutex
	refused := map[string]int{}
	logs := &syncBuf{}
	g := NewGate(GateConfig{Name: "test", Max: 5, MaxPerAddr: 2, Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Refused: func(r string) { mu.Lock(); refused[r]++; mu.Unlock() }})
	a1, a2 := tcpAddr("192.0.2.1:1000"), tcpAddr("192.0.2.1:1001")
	require.Empty(t, g.Admit(a1))
	require.Empty(t, g.Admit(a2))
	for range 3 {
		require.Equal(t, ReasonMaxConnsPerAddr, g.Admit(tcpAddr("192.0.2.1:1002")))
	}
	require.Empty(t, g.Admit(tcpAddr("192.0.2.2:1")))
	require.Empty(t, g.Admit(tcpAddr("192.0.2.3:1")))
	require.Empty(t, g.Admit(tcpAddr("192.0.2.4:1")))
	require.Equal(t, ReasonMaxConns, g.Admit(tcpAddr("192.0.2.5:1")))
	require.Equal(t, 5, g.Open())
	g.Release(a1)
	require.Empty(t, g.Admit(tcpAddr("192.0.2.1:1003")), "a released place is free again")
	require.Equal(t, map[string]int{ReasonMaxConnsPerAddr: 3, ReasonMaxConns: 1}, refused)

	// One warning per address; the other refusals at debug.
	out := logs.String()
	require.Equal(t, 1, strings.Count(out, "level=WARN msg=\"connection refused: too many connections\" listener=test remote=192.0.2.1:1002"), out)
	require.Equal(t, 2, strings.Count(out, "level=DEBUG msg=\"connection refused: too many connections\" listener=test remote=192.0.2.1:1002"), out)
	require.Contains(t, out, "reason=max_conns_per_ip max=2")
	require.Contains(t, out, "remote=192.0.2.5:1 reason=max_conns max=5")
}

func TestSampler(t *testing.T) {
	s := sampler{every: time.Minute}
	t0 := time.Unix(1000, 0)
	ok, _ := s.allow(addrA, t0)
	require.True(t, ok)
	for i := range 3 {
		ok, _ = s.allow(addrA, t0.Add(time.Duration(i)*time.Second))
		require.False(t, ok)
	}
	ok, held := s.allow(addrA, t0.Add(time.Minute))
	require.True(t, ok)
	require.Equal(t, 3, held)
	ok, _ = s.allow(addrB, t0)
	require.True(t, ok)
}

// TestListener: over real loopback sockets, connections from one address beyond its cap are
// closed at once, while another address is served.
func TestListener(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var refusals sync.WaitGroup
	g := NewGate(GateConfig{Name: "http", MaxPerAddr: 3, Refused: func(string) { refusals.Done() }})
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok")
	}), ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(NewListener(ln, g)) }()
	defer func() {
		require.NoError(t, srv.Close())
		<-done
	}()

	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}, Timeout: 5 * time.Second}
	var held []net.Conn
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	refusals.Add(5)
	for range 8 {
		c, derr := d.Dial("tcp", ln.Addr().String())
		require.NoError(t, derr)
		held = append(held, c)
	}
	refusals.Wait() // five were refused; the refused ones read EOF at once
	closed := 0
	for _, c := range held {
		require.NoError(t, c.SetReadDeadline(time.Now().Add(200*time.Millisecond)))
		if _, err = c.Read(make([]byte, 1)); errors.Is(err, io.EOF) {
			closed++
		}
	}
	require.Equal(t, 5, closed)
	require.Equal(t, 3, g.Open())

	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get("http://" + ln.Addr().String())
	require.NoError(t, err, "another address is served")
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, "ok", string(b))

	for _, c := range held[:3] {
		c.Close()
	}
	require.Eventually(t, func() bool { return g.Open() <= 1 }, 5*time.Second, 10*time.Millisecond,
		"closing connections frees their places (the client's keep-alive may hold one)")
}

// TestListenerSendfile: the gated connection still offers ReadFrom, so a file is sent whole.
func TestListenerSendfile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	data := []byte(strings.Repeat("0123456789", 300000))
	require.NoError(t, os.WriteFile(p, data, 0o644))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, p)
	}), ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(NewListener(ln, NewGate(GateConfig{Max: 10}))) }()
	defer func() {
		require.NoError(t, srv.Close())
		<-done
	}()
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Get("http://" + ln.Addr().String())
	require.NoError(t, err)
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	require.Equal(t, len(data), len(got))
	var _ io.ReaderFrom = &gatedConn{}
}

func TestBudget(t *testing.T) {
	b := NewBudget(100)
	require.True(t, b.Acquire(60))
	require.False(t, b.Acquire(41))
	require.True(t, b.Acquire(40))
	require.Equal(t, int64(100), b.Used())
	b.Release(50)
	require.True(t, b.Acquire(50))
	require.False(t, b.Acquire(1))
	var nb *Budget
	require.True(t, nb.Acquire(1<<40), "a nil budget is unlimited")

	var wg sync.WaitGroup
	c := NewBudget(1000)
	for range 8 {
		wg.Go(func() {
			for range 1000 {
				if c.Acquire(7) {
					if u := c.Used(); u > 1000 {
						t.Errorf("used %d of 1000", u)
					}
					c.Release(7)
				}
			}
		})
	}
	wg.Wait()
	require.Zero(t, c.Used())
}
