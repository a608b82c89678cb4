package ondemand

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// drainLimit bounds how much of a reply is read past what is parsed, so that the connection can
// be reused; anything longer is cut off by closing the body.
const drainLimit = 4096

// Asker asks a business server whether to record (§5 on_demand_http). The zero value is ready to
// use, and so is a nil *Asker.
type Asker struct {
	// Client sends the request; nil means a client with Timeout. Its CheckRedirect is overridden:
	// redirects are never followed.
	Client *http.Client
	// Timeout bounds a whole decision (configurable); ≤ 0 means DefaultTimeout.
	Timeout time.Duration
	// MaxBody is how many bytes of the reply are read; ≤ 0 means DefaultMaxBody (seed 000).
	MaxBody int
}

// Ask sends GET {url}?app=..&domain=..&stream=..&vbitrate=..&codec=.. (seed 000), keeping any
// query the URL already has except those five names, and parses the reply. Only HTTP 200 with one
// complete, valid JSON object within MaxBody bytes is a decision; anything else is an *Error whose
// Reason (ErrStatus, ErrTimeout, ErrTransport, ErrTruncated, ErrInvalid, ErrCanceled, ErrURL) is
// matched by errors.Is. A failed decision means the stream is not recorded.
func (a *Asker) Ask(ctx context.Context, rawURL string, r Request) (Reply, error) {
	var cfg Asker
	if a != nil {
		cfg = *a
	}
	timeout, maxBody := cfg.Timeout, cfg.MaxBody
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	if maxBody <= 0 {
		maxBody = DefaultMaxBody
	}
	target, err := requestURL(rawURL, r)
	if err != nil {
		return Reply{}, err
	}
	client := http.Client{Timeout: timeout}
	if cfg.Client != nil {
		client = *cfg.Client
	}
	client.CheckRedirect = noRedirect

	tctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(tctx, http.MethodGet, target, http.NoBody)
	if err != nil {
		return Reply{}, &Error{Reason: ErrURL, Err: err}
	}
	req.Header.Set("User-Agent", "liverec")
	req.Header.Set("Accept", "application/json")

	resp, err := client.Do(req)
	if err != nil {
		return Reply{}, classify(ctx, tctx, err)
	}
	// Runs before cancel: a bounded drain lets the connection be reused; Close cuts the rest.
	defer func() {
		_, _ = io.CopyN(io.Discard, resp.Body, drainLimit)
		_ = resp.Body.Close()
	}()
	if resp.StatusCode != http.StatusOK {
		return Reply{}, &Error{Reason: ErrStatus, Status: resp.StatusCode}
	}
	body, err := readAtMost(resp.Body, maxBody+1)
	if err != nil {
		return Reply{}, classify(ctx, tctx, err)
	}
	return parseBody(body, maxBody)
}

// requestURL appends the seed's five parameters, in the seed's order, to the URL's own query;
// parameters of the URL with one of those names are dropped so that each is sent once.
func requestURL(rawURL string, r Request) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", &Error{Reason: ErrURL, Err: err}
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fail(ErrURL, "on-demand url must be an absolute http(s) url")
	}
	var q strings.Builder
	for part := range strings.SplitSeq(u.RawQuery, "&") {
		if part == "" {
			continue
		}
		name, _, _ := strings.Cut(part, "=")
		if n, err := url.QueryUnescape(name); err == nil && isOwnParam(n) {
			continue
		}
		q.WriteString(part)
		q.WriteByte('&')
	}
	kbps := max(r.VideoKbps, 0)
	q.WriteString("app=" + url.QueryEscape(r.App))
	q.WriteString("&domain=" + url.QueryEscape(r.Domain))
	q.WriteString("&stream=" + url.QueryEscape(r.Stream))
	q.WriteString("&vbitrate=" + strconv.Itoa(kbps))
	q.WriteString("&codec=" + url.QueryEscape(r.Codec))
	u.RawQuery, u.Fragment, u.RawFragment = q.String(), "", ""
	return u.String(), nil
}

func isOwnParam(name string) bool {
	switch name {
	case "app", "domain", "stream", "vbitrate", "codec":
		return true
	}
	return false
}

// noRedirect makes the client return a 3xx as the reply, which is then a failed decision.
func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// readAtMost reads up to n bytes, stopping early at EOF.
func readAtMost(r io.Reader, n int) ([]byte, error) {
	buf := make([]byte, n)
	got := 0
	for got < n {
		m, err := r.Read(buf[got:])
		got += m
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	return buf[:got], nil
}

// classify turns a transport or read error into a Reason: the caller's context first (canceled,
// or its own deadline), then our timeout, then anything else.
func classify(parent, tctx context.Context, err error) *Error {
	switch {
	case parent.Err() != nil && !errors.Is(parent.Err(), context.DeadlineExceeded):
		return &Error{Reason: ErrCanceled, Err: err}
	case parent.Err() != nil, tctx.Err() != nil, errors.Is(err, context.DeadlineExceeded), isNetTimeout(err):
		return &Error{Reason: ErrTimeout, Err: err}
	}
	return &Error{Reason: ErrTransport, Err: err}
}

func isNetTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
