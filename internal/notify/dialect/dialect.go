// Package dialect turns an outbox event into the HTTP request one callback configuration
// expects: the body, headers and signature of the aliyun, huawei or standard dialect. It is
// pure — no I/O, no clock: the caller passes the attempt's time, because timestamps and
// signatures are fresh on every attempt while the event ID stays the same.
//
// Bodies carry what the seed documents show: a field they document as conditional (Huawei's
// job_id, download_url, width/height, VOD's asset_id and play_url…) is absent when its
// condition does not hold, never an empty string. A file_started event names the file's ID
// (Huawei job_id, standard file_id), the same as its file_completed, and (standard) the object
// key it will have as far as its start tells: a template's end-time variables render as
// "live" then, so the file_completed key differs when the template uses them.
package dialect

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/liverec/liverec/internal/recording"
)

// Request is one delivery attempt. The caller sends it with POST.
type Request struct {
	URL    string
	Header http.Header
	Body   []byte
}

// DefaultHuaweiExpiry is how long a Huawei auth_sign stays valid: Huawei's auth_timestamp is the
// signature's expiry, send time + 600 s by default (reference B.4 and note 2).
const DefaultHuaweiExpiry = 600 * time.Second

// Encoder holds the encoding options. The zero value uses the documented defaults.
type Encoder struct {
	// HuaweiExpiry is added to the attempt's time to give Huawei's auth_timestamp; zero means
	// DefaultHuaweiExpiry and a negative value is an error.
	HuaweiExpiry time.Duration
}

// Encode is Encoder{}.Encode: the request for one attempt with the default options.
func Encode(ev *recording.OutboxEvent, cfg *recording.CallbackConfig, key string, now time.Time) (Request, bool, error) {
	return Encoder{}.Encode(ev, cfg, key, now)
}

// Encode returns the request for one delivery attempt of ev to cfg, or ok=false when the
// dialect does not send this event (see Subscribed). key is the configuration's plain key, ""
// for unsigned deliveries; now is the attempt's time.
func (e Encoder) Encode(ev *recording.OutboxEvent, cfg *recording.CallbackConfig, key string, now time.Time) (Request, bool, error) {
	if ev == nil || cfg == nil {
		return Request{}, false, errors.New("dialect: nil event or callback configuration")
	}
	if ev.ID == "" {
		// Every delivery carries X-Liverec-Event-Id; an event without one cannot be deduplicated.
		return Request{}, false, errors.New("dialect: event has no id")
	}
	switch cfg.Dialect {
	case recording.DialectAliyun, recording.DialectHuawei, recording.DialectStandard:
	default:
		return Request{}, false, fmt.Errorf("dialect: unknown callback dialect %q", cfg.Dialect)
	}
	if !Subscribed(cfg, ev.Type) {
		return Request{}, false, nil
	}
	var (
		req Request
		err error
	)
	switch cfg.Dialect {
	case recording.DialectAliyun:
		req, err = encodeAliyun(ev, cfg, key, now)
	case recording.DialectHuawei:
		req, err = e.encodeHuawei(ev, cfg, key, now)
	default:
		req, err = encodeStandard(ev, cfg, key, now)
	}
	if err != nil {
		return Request{}, false, fmt.Errorf("dialect %s: %w", cfg.Dialect, err)
	}
	return req, true, nil
}

// Subscribed tells whether cfg receives events of type t. cfg.Events, when set, narrows the
// dialect's sendable events; when empty the dialect's default applies: aliyun sends
// file_completed and (with NeedStatusNotify) the status events, huawei [file_completed], and
// standard every event. Enabled is the fan-out's business, not the encoder's.
func Subscribed(cfg *recording.CallbackConfig, t recording.Event) bool {
	if cfg == nil {
		return false
	}
	switch cfg.Dialect {
	case recording.DialectAliyun:
		switch t {
		case recording.EventRecordStarted, recording.EventRecordPaused, recording.EventRecordResumed:
			// Status callbacks exist only with NeedStatusNotify (seed 001, reference B.2).
			if !cfg.NeedStatusNotify {
				return false
			}
		case recording.EventFileCompleted:
		default:
			return false
		}
		return len(cfg.Events) == 0 || slices.Contains(cfg.Events, t)
	case recording.DialectHuawei:
		if huaweiEventType(t) == "" {
			return false
		}
		if len(cfg.Events) == 0 {
			// Huawei's default subscription is [RECORD_FILE_COMPLETE].
			return t == recording.EventFileCompleted
		}
		return slices.Contains(cfg.Events, t)
	case recording.DialectStandard:
		if standardType(t) == "" {
			return false
		}
		return len(cfg.Events) == 0 || slices.Contains(cfg.Events, t)
	}
	return false
}

// Canonical header names, so http.Header.Get finds them; HTTP header names are
// case-insensitive, and HTTP/2 lower-cases them on the wire anyway.
const (
	hContentType   = "Content-Type"
	hEventID       = "X-Liverec-Event-Id"
	hUserAgent     = "User-Agent"
	hAliTimestamp  = "Ali-Live-Timestamp"
	hAliSignature  = "Ali-Live-Signature"
	hWebhookID     = "Webhook-Id"
	hWebhookTime   = "Webhook-Timestamp"
	hWebhookSigned = "Webhook-Signature"
)

// headers builds an http.Header whose values share one backing array (two allocations in all).
type headers struct {
	h    http.Header
	vals []string
}

// newHeaders starts with the headers of every delivery and room for extra more.
func newHeaders(ev *recording.OutboxEvent, extra int) headers {
	n := 3 + extra
	hs := headers{h: make(http.Header, n), vals: make([]string, 0, n)}
	hs.set(hContentType, "application/json")
	hs.set(hEventID, ev.ID)
	hs.set(hUserAgent, "liverec")
	return hs
}

// set stores v under the canonical key k; the three-index slice keeps a later Add from
// overwriting the neighbouring value.
func (hs *headers) set(k, v string) {
	hs.vals = append(hs.vals, v)
	i := len(hs.vals) - 1
	hs.h[k] = hs.vals[i : i+1 : i+1]
}

// marshal encodes a body struct; struct field order keeps golden bodies stable.
func marshal(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode body: %w", err)
	}
	return b, nil
}

// jsonString returns s as encoding/json will send it: each invalid UTF-8 byte becomes U+FFFD.
// Signatures computed over body fields use it so that a receiver verifying from the parsed body
// gets the same bytes.
func jsonString(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	b := make([]byte, 0, len(s)+8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = utf8.AppendRune(b, utf8.RuneError)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return string(b)
}

// seconds is a duration as float seconds with millisecond precision (Alibaba's "duration":
// 69.403, seed 001).
func seconds(d time.Duration) float64 {
	return float64(d.Round(time.Millisecond).Milliseconds()) / 1000
}
