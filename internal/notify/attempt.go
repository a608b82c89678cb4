package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/url"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/liverec/liverec/internal/backoff"
	"github.com/liverec/liverec/internal/netguard"
	"github.com/liverec/liverec/internal/recording"
)

const (
	// replyHead is how much of a reply an attempt keeps for the delivery log; up to
	// replyDrain more is read so the connection can be reused.
	replyHead  = 256
	replyDrain = 64 << 10
	// recordTimeout bounds writing an attempt to the store.
	recordTimeout = 10 * time.Second
)

// Reasons recorded with deliveries that were not sent.
const (
	// ReasonNotSent: Encode said the configuration does not take this event. The delivery is
	// recorded as delivered (status 0) so the stream's queue moves on.
	ReasonNotSent  = "not sent: not subscribed/not applicable in this dialect"
	ReasonDisabled = "callback configuration disabled"
	ReasonDeleted  = "callback configuration deleted"
	// ReasonGone disables a configuration whose receiver answered 410.
	ReasonGone = "410 Gone from receiver"
)

// ReasonPanic starts the error of a delivery whose attempt panicked: it is failed rather than
// retried (the same event would panic again), and can be redelivered from the API.
const ReasonPanic = "internal error while delivering"

// safeAttempt is attempt with a panic contained to the delivery: logged with its stack,
// counted, and the delivery recorded failed. Should recording panic too, the claim's lease
// brings the delivery back.
func (n *Notifier) safeAttempt(ctx context.Context, d *recording.Delivery) {
	defer func() {
		p := recover()
		if p == nil {
			return
		}
		if n.OnPanic != nil {
			n.OnPanic()
		}
		log := n.Logger.With("delivery", d.ID, "callback", d.CallbackID)
		log.Error("panic while delivering; the delivery is failed, others go on", "panic", p,
			"stack", string(debug.Stack()))
		defer func() {
			if again := recover(); again != nil {
				log.Error("panic while recording a panicked delivery; its lease brings it back", "panic", again)
			}
		}()
		now := n.Now()
		msg := fmt.Sprintf("%s: %v", ReasonPanic, p)
		n.record(ctx, log, recording.Attempt{DeliveryID: d.ID, At: now, Error: msg}, recording.DeliveryFailed, now,
			msg, OutcomeFailed)
	}()
	n.attempt(ctx, d)
}

// attempt makes one attempt of d and records it with d's new state.
func (n *Notifier) attempt(ctx context.Context, d *recording.Delivery) {
	now := n.Now()
	a := recording.Attempt{DeliveryID: d.ID, At: now}
	log := n.Logger.With("delivery", d.ID, "callback", d.CallbackID, "attempt", d.Attempts+1)
	ev := d.Event
	if ev == nil {
		a.Error = "event missing"
		n.record(ctx, log, a, recording.DeliveryFailed, now, a.Error, OutcomeFailed)
		return
	}
	log = log.With("event", ev.ID, "type", ev.Type, "recording", ev.Data.RecordingID,
		"domain", ev.Data.Domain, "app", ev.Data.App, "stream", ev.Data.Stream)

	cfg, key, err := n.config(ctx, d.CallbackID)
	switch {
	case errors.Is(err, recording.ErrNotFound):
		a.Error = ReasonDeleted
	case err != nil:
		// Not an attempt: the claim's lease brings the delivery back.
		log.Error("loading callback configuration failed", "err", err)
		return
	case !cfg.Enabled:
		a.Error = ReasonDisabled
	}
	if a.Error != "" {
		n.record(ctx, log, a, recording.DeliveryFailed, now, a.Error, OutcomeFailed)
		return
	}

	// A fresh signature and timestamp per attempt.
	req, ok, err := n.Encode(ev, cfg, key, now)
	if err != nil {
		a.Error = fmt.Sprintf("encode: %v", err)
		n.record(ctx, log, a, recording.DeliveryFailed, now, a.Error, OutcomeFailed)
		return
	}
	if !ok {
		a.Error = ReasonNotSent
		n.record(ctx, log, a, recording.DeliveryDelivered, now, a.Error, OutcomeDropped)
		return
	}

	r := n.send(ctx, req)
	a.Status, a.Latency, a.ReplyHead = r.status, r.latency, r.head
	if r.err != nil {
		a.Error = r.err.Error()
	}
	if r.sent {
		n.Metrics.observe(r.latency)
	}
	switch {
	case r.err == nil && r.status >= 200 && r.status < 300:
		n.record(ctx, log, a, recording.DeliveryDelivered, now, "", OutcomeDelivered)
	case r.err == nil && r.status == http.StatusGone:
		// Disabled first, so the stream's next delivery cannot be sent meanwhile.
		n.disable(ctx, log, cfg.ID)
		n.record(ctx, log, a, recording.DeliveryFailed, now, statusText(r.status), OutcomeFailed)
	case r.sent && errors.Is(r.err, netguard.ErrRefused):
		// The target is refused by configuration: retrying cannot help.
		n.record(ctx, log, a, recording.DeliveryFailed, now, a.Error, OutcomeFailed)
	case r.sent && (r.err != nil || retryable(r.status)):
		last := a.Error
		if r.err == nil {
			last = statusText(r.status)
		}
		next, ok := n.retryAt(d, n.Now(), r.retryAfter) // counted from the attempt's end
		if !ok {
			n.record(ctx, log, a, recording.DeliveryFailed, now,
				fmt.Sprintf("retries exhausted after %s: %s", n.Backoff.MaxAge, last), OutcomeFailed)
			return
		}
		n.record(ctx, log.With("next", next), a, recording.DeliveryPending, next, last, OutcomeRetry)
	default: // other 1xx/3xx/4xx, or a request that cannot be made
		last := a.Error
		if last == "" {
			last = statusText(r.status)
		}
		n.record(ctx, log, a, recording.DeliveryFailed, now, last, OutcomeFailed)
	}
}

// retryable says whether a status is retried: 5xx, 408, 425 and 429.
func retryable(status int) bool {
	return status >= 500 || status == http.StatusRequestTimeout ||
		status == http.StatusTooEarly || status == http.StatusTooManyRequests
}

func statusText(status int) string {
	return strings.TrimSpace(fmt.Sprintf("HTTP %d %s", status, http.StatusText(status)))
}

// retryAt returns when d is attempted next after its attempt at now failed: the backoff, or
// Retry-After when later (at most Backoff.Max); false when that is past MaxAge of its event.
func (n *Notifier) retryAt(d *recording.Delivery, now time.Time, retryAfter string) (time.Time, bool) {
	delay := n.Backoff.policy(n.Rand).Delay(d.Attempts + 1)
	if ra, ok := parseRetryAfter(retryAfter, now); ok && ra > delay {
		delay = min(ra, n.Backoff.Max)
	}
	next := now.Add(delay)
	return next, next.Sub(d.Event.CreatedAt) <= n.Backoff.MaxAge
}

// policy is the backoff of the retries, drawing its jitter from r (nil: math/rand/v2).
func (b *Backoff) policy(r func() float64) backoff.Policy {
	return backoff.Policy{Min: b.Min, Max: b.Max, Factor: b.Factor, Jitter: b.Jitter, Rand: r}
}

// parseRetryAfter reads a Retry-After header: delay-seconds or an HTTP-date (RFC 9110 §10.2.3).
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil {
		if s < 0 {
			return 0, false
		}
		return time.Duration(min(s, int64(math.MaxInt64/time.Second))) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}

type result struct {
	sent       bool // a request was made (an answer or a transport error)
	status     int
	retryAfter string
	head       string
	latency    time.Duration
	err        error
}

// send POSTs req within Timeout and reads the head of the reply. Redirects are not followed
// by the default client, so a 3xx reaches the caller.
func (n *Notifier) send(ctx context.Context, req Request) result {
	ctx, cancel := context.WithTimeout(ctx, n.Timeout)
	defer cancel()
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, req.URL, bytes.NewReader(req.Body))
	if err != nil {
		// The URL is not logged or recorded: it may carry a receiver's token.
		return result{err: errors.New("invalid callback url")}
	}
	for k, v := range req.Header {
		hreq.Header[k] = v
	}
	if hreq.Header.Get("Content-Type") == "" {
		hreq.Header.Set("Content-Type", "application/json")
	}
	if hreq.Header.Get("User-Agent") == "" {
		hreq.Header.Set("User-Agent", "liverec")
	}
	start := time.Now()
	resp, err := n.Client.Do(hreq)
	if err != nil {
		return result{sent: true, latency: time.Since(start), err: n.describe(err)}
	}
	defer resp.Body.Close()
	buf := make([]byte, replyHead)
	k, _ := io.ReadFull(resp.Body, buf) // a short or broken body still has its status
	lat := time.Since(start)
	_, _ = io.CopyN(io.Discard, resp.Body, replyDrain)
	return result{sent: true, status: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After"),
		head: strings.ToValidUTF8(string(buf[:k]), "\uFFFD"), latency: lat}
}

// describe shortens a transport error for the delivery log, without the request URL.
func (n *Notifier) describe(err error) error {
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return fmt.Errorf("timeout after %s", n.Timeout)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func (n *Notifier) disable(ctx context.Context, log *slog.Logger, id string) {
	ctx, cancel := context.WithTimeout(ctx, recordTimeout)
	defer cancel()
	if err := n.Outbox.CallbackDisable(ctx, id, ReasonGone); err != nil {
		log.Error("disabling callback configuration failed", "err", err)
	}
	n.forgetConfig(id)
	log.Warn("callback configuration disabled", "reason", ReasonGone)
}

// record stores an attempt and the delivery's new state. When that fails the claim's lease
// brings the delivery back, so it is attempted again: at least once.
func (n *Notifier) record(ctx context.Context, log *slog.Logger, a recording.Attempt, state recording.DeliveryState, next time.Time, lastErr, outcome string) {
	ctx, cancel := context.WithTimeout(ctx, recordTimeout)
	defer cancel()
	if err := n.Outbox.DeliveryRecord(ctx, a, state, next, lastErr); err != nil {
		log.Error("recording delivery attempt failed", "err", err)
		return
	}
	n.Metrics.outcome(outcome)
	level := slog.LevelDebug
	switch outcome {
	case OutcomeRetry:
		level = slog.LevelInfo
	case OutcomeFailed:
		level = slog.LevelWarn
	}
	log.Log(ctx, level, "delivery attempt", "outcome", outcome, "status", a.Status,
		"latency", a.Latency, "err", lastErr)
}
