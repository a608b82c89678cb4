package limit

import (
	"bytes"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// clock is a settable clock for the throttle.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// syncBuf is a log capture safe for concurrent writes.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newTestThrottle(limit int) (*Throttle, *clock, *syncBuf) {
	c := &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	logs := &syncBuf{}
	th := NewThrottle(ThrottleConfig{Limit: limit, Window: time.Minute, Cooldown: 5 * time.Minute, Now: c.now,
		Logger: slog.New(slog.NewTextHandler(logs, nil))})
	return th, c, logs
}

var (
	addrA = netip.MustParseAddr("192.0.2.1")
	addrB = netip.MustParseAddr("192.0.2.2")
	addrC = netip.MustParseAddr("192.0.2.3")
)

func TestThrottleAddress(t *testing.T) {
	th, c, logs := newTestThrottle(3)
	for i := range 2 {
		th.Fail(addrA, "KEY1", "test")
		_, refused := th.Check(addrA)
		require.False(t, refused, "after %d failures", i+1)
	}
	th.Fail(addrA, "KEY1", "test")
	wait, refused := th.Check(addrA)
	require.True(t, refused)
	require.Equal(t, 5*time.Minute, wait)
	_, refused = th.Check(addrB)
	require.False(t, refused, "another address is not refused for A's failures")

	// One line per cool-down, naming the address, the key id and the count; never a secret.
	require.Equal(t, 1, strings.Count(logs.String(), "too many failures from one address"), logs.String())
	require.Contains(t, logs.String(), "remote=192.0.2.1")
	require.Contains(t, logs.String(), "key_id=KEY1")
	require.Contains(t, logs.String(), "failures=3")

	c.advance(4 * time.Minute)
	wait, refused = th.Check(addrA)
	require.True(t, refused)
	require.Equal(t, time.Minute, wait)
	c.advance(time.Minute)
	_, refused = th.Check(addrA)
	require.False(t, refused, "the cool-down is over")

	// A fresh window after the cool-down: it takes Limit failures again.
	th.Fail(addrA, "", "test")
	_, refused = th.Check(addrA)
	require.False(t, refused)
}

func TestThrottleWindow(t *testing.T) {
	th, c, _ := newTestThrottle(3)
	th.Fail(addrA, "", "test")
	th.Fail(addrA, "", "test")
	c.advance(61 * time.Second) // the window is over: the count starts again
	th.Fail(addrA, "", "test")
	th.Fail(addrA, "", "test")
	_, refused := th.Check(addrA)
	require.False(t, refused)
	th.Fail(addrA, "", "test")
	_, refused = th.Check(addrA)
	require.True(t, refused)
}

// TestThrottleKey: failures for one key from many addresses put the key on watch; during its
// cool-down an address that fails for it once is refused, an address that did not fail is not.
func TestThrottleKey(t *testing.T) {
	th, c, logs := newTestThrottle(3)
	addrs := []netip.Addr{netip.MustParseAddr("198.51.100.1"), netip.MustParseAddr("198.51.100.2"),
		netip.MustParseAddr("198.51.100.3")}
	for _, a := range addrs {
		th.Fail(a, "KEY1", "test")
		_, refused := th.Check(a)
		require.False(t, refused, a)
	}
	require.Contains(t, logs.String(), "authentication failures for one access key")
	require.Contains(t, logs.String(), "key_id=KEY1")

	th.Fail(addrA, "KEY1", "test") // one failure for the watched key: refused at once
	_, refused := th.Check(addrA)
	require.True(t, refused)
	require.Contains(t, logs.String(), "key_throttled=true")
	_, refused = th.Check(addrB)
	require.False(t, refused, "an address that did not fail is never refused")
	th.Fail(addrC, "KEY2", "test") // another key is not on watch
	_, refused = th.Check(addrC)
	require.False(t, refused)

	c.advance(5 * time.Minute)
	th.Fail(addrB, "KEY1", "test") // the key's cool-down is over
	_, refused = th.Check(addrB)
	require.False(t, refused)
}

func TestThrottleIPv6Prefix(t *testing.T) {
	th, _, _ := newTestThrottle(2)
	th.Fail(netip.MustParseAddr("2001:db8:1:2::1"), "", "test")
	th.Fail(netip.MustParseAddr("2001:db8:1:2::ffff"), "", "test")
	_, refused := th.Check(netip.MustParseAddr("2001:db8:1:2:abcd::9"))
	require.True(t, refused, "one /64 is one source")
	_, refused = th.Check(netip.MustParseAddr("2001:db8:1:3::1"))
	require.False(t, refused)
}

func TestThrottleOff(t *testing.T) {
	var nilT *Throttle
	nilT.Fail(addrA, "K", "test")
	_, refused := nilT.Check(addrA)
	require.False(t, refused)
	th, _, _ := newTestThrottle(0)
	for range 100 {
		th.Fail(addrA, "K", "test")
	}
	_, refused = th.Check(addrA)
	require.False(t, refused)
}

// TestThrottleBounded: a flood from more addresses than it tracks keeps memory bounded, and
// the addresses forgotten are those whose window is over.
func TestThrottleBounded(t *testing.T) {
	th, c, _ := newTestThrottle(2)
	base := netip.MustParseAddr("10.0.0.0").As4()
	addr := func(i int) netip.Addr {
		b := base
		b[1], b[2], b[3] = byte(i>>16), byte(i>>8), byte(i)
		return netip.AddrFrom4(b)
	}
	for i := range maxTracked + 10 {
		th.Fail(addr(i), "", "test")
	}
	require.Equal(t, maxTracked, len(th.addrs))
	c.advance(2 * time.Minute)
	th.Fail(addr(maxTracked+20), "", "test")
	th.Fail(addr(maxTracked+20), "", "test")
	require.Equal(t, 1, len(th.addrs), "idle records are swept once the map is full")
	_, refused := th.Check(addr(maxTracked + 20))
	require.True(t, refused)
}

func TestThrottleConcurrent(t *testing.T) {
	th, _, _ := newTestThrottle(50)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for range 100 {
				th.Fail(netip.AddrFrom4([4]byte{10, 0, 0, byte(i)}), "KEY", "test")
				th.Check(netip.AddrFrom4([4]byte{10, 0, 0, byte(i)}))
			}
		})
	}
	wg.Wait()
	for i := range 8 {
		_, refused := th.Check(netip.AddrFrom4([4]byte{10, 0, 0, byte(i)}))
		require.True(t, refused)
	}
}
