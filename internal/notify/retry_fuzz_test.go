package notify

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
)

// FuzzRetryAfter feeds the Retry-After header of a receiver's reply: a value that parses is a
// non-negative wait that matches its delay-seconds or HTTP-date form, and the next attempt it
// leads to comes after now and at most Backoff.Max later, whatever the header says.
func FuzzRetryAfter(f *testing.F) {
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, v := range []string{"120", " 0 ", "-1", "1.5", "9223372036854775807", now.Add(90 * time.Second).Format(http.TimeFormat),
		"Fri, 31 Dec 9999 23:59:59 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994"} {
		f.Add(v, 3)
	}
	s := newFakeStore()
	n := mustNew(f, Config{Outbox: s, Callbacks: s, Encode: testEncode})
	f.Fuzz(func(t *testing.T, v string, attempts int) {
		d, ok := parseRetryAfter(v, now)
		if ok {
			require.GreaterOrEqual(t, d, time.Duration(0))
			if s, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil {
				require.Equal(t, time.Duration(min(s, int64(1<<63-1)/int64(time.Second)))*time.Second, d)
			} else {
				at, err := http.ParseTime(strings.TrimSpace(v))
				require.NoError(t, err)
				if at.After(now) && at.Sub(now) < 1<<62 {
					require.Equal(t, at.Sub(now), d)
				}
			}
		} else {
			require.Zero(t, d)
		}
		del := &recording.Delivery{Attempts: attempts % 1000, Event: &recording.OutboxEvent{CreatedAt: now}}
		next, _ := n.retryAt(del, now, v)
		require.True(t, next.After(now), "next attempt %v not after now", next)
		require.LessOrEqual(t, next.Sub(now), n.Backoff.Max)
	})
}
