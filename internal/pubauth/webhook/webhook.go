// Package webhook asks a business server whether a publisher may publish: the webhook method of
// publish authentication.
//
// The contract: liverec POSTs a JSON object to the configured URL,
//
//	{"domain": "...", "app": "...", "stream": "...", "client_addr": "203.0.113.7:50312",
//	 "params": {"token": "...", "vhost": "..."}}
//
// where params are the ingest parameters (the query of the publish URL, first value of each),
// credential parameters included: in this mode the business server is the one that checks them.
// The answer admits the publisher when it is a 2xx whose body is {"allow": true}, or a 2xx whose
// body is not a JSON object (a plain 200 or 204). It refuses on {"allow": false, "reason": "..."}
// with a 2xx, on 401 and 403, and — failing closed — on anything else: another status, a JSON
// object without a boolean "allow", a redirect, a transport error, or no answer within the
// configured timeout.
package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/liverec/liverec/internal/pubauth"
)

// MaxBody is how much of an answer is read; longer answers fail (closed).
const MaxBody = 4096

// maxReason bounds the business server's reason kept for logs.
const maxReason = 200

// Request is what the business server is told.
type Request struct {
	Domain     string            `json:"domain"`
	App        string            `json:"app"`
	Stream     string            `json:"stream"`
	ClientAddr string            `json:"client_addr"`
	Params     map[string]string `json:"params"`
}

// NewRequest builds a Request from ingest parameters (first value of each).
func NewRequest(domain, app, stream, clientAddr string, q url.Values) Request {
	params := make(map[string]string, len(q))
	for name, vs := range q {
		if len(vs) > 0 {
			params[name] = vs[0]
		}
	}
	return Request{Domain: domain, App: app, Stream: stream, ClientAddr: clientAddr, Params: params}
}

// Client asks webhooks. Client.HTTP should come from netguard.Client (no redirects, optional
// refusal of private targets); its own timeout must be at least the longest webhook timeout.
type Client struct {
	HTTP *http.Client
}

// answer is the JSON form of the business server's answer.
type answer struct {
	Allow  *bool  `json:"allow"`
	Reason string `json:"reason"`
}

// Ask returns nil to admit, or a *pubauth.Refusal (ReasonDenied or ReasonWebhookFailed) to
// refuse, within timeout.
func (c *Client) Ask(ctx context.Context, rawURL string, timeout time.Duration, r Request) error {
	body, err := json.Marshal(r)
	if err != nil {
		return failed("encode the request: %v", err)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rawURL, bytes.NewReader(body))
	if err != nil {
		return failed("bad webhook URL")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "liverec")
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	resp, err := hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return failed("no answer within %s", timeout)
		}
		return failed("request failed: %s", transportReason(err))
	}
	defer func() { _ = resp.Body.Close() }()
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxBody+1))
	switch {
	case err != nil && ctx.Err() != nil:
		return failed("no answer within %s", timeout)
	case err != nil:
		return failed("reading the answer failed")
	case len(data) > MaxBody:
		return failed("answer longer than %d bytes", MaxBody)
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return &pubauth.Refusal{Reason: pubauth.ReasonDenied, Detail: fmt.Sprintf("webhook answered %d", resp.StatusCode)}
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return failed("webhook answered %d", resp.StatusCode)
	}
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil // a plain 2xx admits
	}
	var a answer
	if err := json.Unmarshal(trimmed, &a); err != nil || a.Allow == nil {
		return failed("a JSON answer must hold a boolean \"allow\"")
	}
	if !*a.Allow {
		return &pubauth.Refusal{Reason: pubauth.ReasonDenied, Detail: "webhook denied: " + clean(a.Reason)}
	}
	return nil
}

func failed(format string, a ...any) error {
	return &pubauth.Refusal{Reason: pubauth.ReasonWebhookFailed, Detail: fmt.Sprintf(format, a...)}
}

// transportReason keeps a transport error's cause without the URL (which url.Error repeats).
func transportReason(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return err.Error()
}

// clean makes the business server's reason safe for a log line: printable and short.
func clean(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if len(s) > maxReason {
		s = s[:maxReason]
	}
	return s
}
