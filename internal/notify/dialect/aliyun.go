package dialect

import (
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/liverec/liverec/internal/recording"
)

// aliyunStatus is the recording status callback, field for field as seed 001 / reference B.2.
type aliyunStatus struct {
	Domain string `json:"domain"`
	App    string `json:"app"`
	Stream string `json:"stream"`
	Event  string `json:"event"`
}

// aliyunFile is the recording generation callback, field for field as seed 001.
type aliyunFile struct {
	Domain string `json:"domain"`
	App    string `json:"app"`
	Stream string `json:"stream"`
	// URI is the object key in the bucket, no leading "/" (reference B.2).
	URI string `json:"uri"`
	// Duration is float seconds ("duration": 69.403).
	Duration  float64 `json:"duration"`
	StartTime int64   `json:"start_time"`
	StopTime  int64   `json:"stop_time"`
	// PushArgs is always an object, {} when the push had no callback_* parameters.
	PushArgs map[string]string `json:"push_args"`
}

func encodeAliyun(ev *recording.OutboxEvent, cfg *recording.CallbackConfig, key string, now time.Time) (Request, error) {
	d := &ev.Data
	var body any
	if ev.Type == recording.EventFileCompleted {
		f := &aliyunFile{
			Domain: d.Domain, App: d.App, Stream: d.Stream,
			URI:       strings.TrimLeft(d.ObjectKey, "/"),
			Duration:  seconds(d.Duration),
			StartTime: unixOrZero(d.StartTime),
			StopTime:  unixOrZero(d.EndTime),
			PushArgs:  d.PushArgs,
		}
		if f.PushArgs == nil {
			f.PushArgs = map[string]string{}
		}
		body = f
	} else {
		// Subscribed let only the status events through; their names are Alibaba's own.
		body = &aliyunStatus{Domain: d.Domain, App: d.App, Stream: d.Stream, Event: string(ev.Type)}
	}
	b, err := marshal(body)
	if err != nil {
		return Request{}, err
	}
	if key == "" {
		// Without a key Alibaba sends no authentication headers (reference B.2).
		return Request{URL: cfg.URL, Header: newHeaders(ev, 0).h, Body: b}, nil
	}
	host, err := urlHost(cfg.URL)
	if err != nil {
		return Request{}, err
	}
	hs := newHeaders(ev, 2)
	ts := strconv.FormatInt(now.Unix(), 10)
	hs.set(hAliTimestamp, ts)
	hs.set(hAliSignature, aliyunSign(host, ts, key))
	return Request{URL: cfg.URL, Header: hs.h, Body: b}, nil
}

// aliyunSign is ALI-LIVE-SIGNATURE = md5hex("<host>|<timestamp>|<key>") (reference B.2; not the
// RTC variant without the host).
func aliyunSign(host, ts, key string) string {
	var buf [256]byte
	m := append(buf[:0], host...)
	m = append(m, '|')
	m = append(m, ts...)
	m = append(m, '|')
	m = append(m, key...)
	sum := md5.Sum(m)
	var out [md5.Size * 2]byte
	hex.Encode(out[:], sum[:])
	return string(out[:])
}

// urlHost is the callback URL's host as written, with ":port" when the URL has one.
func urlHost(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("callback url: %w", err)
	}
	if u.Host == "" {
		return "", errors.New("callback url has no host")
	}
	return u.Host, nil
}

func unixOrZero(t *time.Time) int64 {
	if t == nil {
		return 0
	}
	return t.Unix()
}
