package ondemand

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/liverec/liverec/internal/recording"
)

// ParseRecordConfig parses the record_config ingest parameter (§5 on_demand_param): the same JSON
// as the on-demand reply, URL-encoded (seed: record_config=%7B%22NeedRecord%22%3Atrue%7D). Ingest
// parameters usually arrive decoded already, so a value that starts with "{" is taken as JSON and
// anything else is URL-decoded once. The same 2,048-byte limit applies. An empty value is
// ErrInvalid; callers treat an absent parameter the same way: not recorded.
func ParseRecordConfig(raw string) (Reply, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return Reply{}, fail(ErrInvalid, "record_config is empty")
	}
	if !strings.HasPrefix(s, "{") {
		dec, err := url.QueryUnescape(s)
		if err != nil {
			return Reply{}, &Error{Reason: ErrInvalid, Err: err}
		}
		s = dec
	}
	return parseBody([]byte(s), DefaultMaxBody)
}

// parseBody parses what was read of a reply. body holds at most maxBody+1 bytes: only the first
// maxBody count (seed 000: longer bodies are truncated); a byte beyond them only tells that the
// server sent more. Those maxBody bytes must hold one complete JSON object, optionally surrounded
// by whitespace: a complete object followed by whitespace up to the limit is a decision whatever
// comes after the limit, and an object cut by the limit is ErrTruncated.
func parseBody(body []byte, maxBody int) (Reply, error) {
	truncated := len(body) > maxBody
	if truncated {
		body = body[:maxBody]
	}
	start := skipSpace(body)
	if start == len(body) {
		if truncated {
			return Reply{}, fail(ErrTruncated, "no json object within the first %d bytes", maxBody)
		}
		return Reply{}, fail(ErrInvalid, "empty reply")
	}
	if body[start] != '{' {
		return Reply{}, fail(ErrInvalid, "reply is not a json object")
	}
	dec := json.NewDecoder(bytes.NewReader(body[start:]))
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		if truncated && errors.Is(err, io.ErrUnexpectedEOF) {
			return Reply{}, fail(ErrTruncated, "json object not complete within the first %d bytes", maxBody)
		}
		return Reply{}, &Error{Reason: ErrInvalid, Err: err}
	}
	if rest := body[start+int(dec.InputOffset()):]; skipSpace(rest) != len(rest) {
		return Reply{}, fail(ErrInvalid, "data after the json object")
	}
	return decodeReply(raw)
}

// wireReply is the reply's JSON (seed 000). encoding/json matches keys case-insensitively.
type wireReply struct {
	APIVersion *string         `json:"ApiVersion"`
	NeedRecord *bool           `json:"NeedRecord"`
	Interval   json.RawMessage `json:"Interval"`
	Format     []string        `json:"Format"`
}

// decodeReply maps one syntactically valid JSON object to a Reply. Fields the decision uses must
// have their documented types (NeedRecord a bool and required, ApiVersion a string, Interval an
// object of integers, Format an array of strings); unknown fields and unknown format names are
// ignored.
func decodeReply(raw []byte) (Reply, error) {
	var w wireReply
	if err := json.Unmarshal(raw, &w); err != nil {
		return Reply{}, &Error{Reason: ErrInvalid, Err: err}
	}
	if w.NeedRecord == nil {
		return Reply{}, fail(ErrInvalid, "NeedRecord is missing")
	}
	r := Reply{APIVersion: DefaultAPIVersion, NeedRecord: *w.NeedRecord}
	if w.APIVersion != nil && *w.APIVersion != "" {
		r.APIVersion = *w.APIVersion
	}
	iv, err := decodeInterval(w.Interval)
	if err != nil {
		return Reply{}, err
	}
	r.Interval = iv
	if w.Format != nil {
		r.Formats = make([]recording.Format, 0, len(w.Format))
		for _, name := range w.Format {
			if f, ok := formatName(name); ok && !slices.Contains(r.Formats, f) {
				r.Formats = append(r.Formats, f)
			}
		}
	}
	return r, nil
}

// decodeInterval reads Interval{Mp4,Flv,M3U8} in document order, so that a key repeated in
// another case ("Mp4", "MP4") resolves deterministically: the last one wins, as in encoding/json.
func decodeInterval(raw json.RawMessage) (map[recording.Format]int, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, fail(ErrInvalid, "Interval is not an object")
	}
	var out map[recording.Format]int
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, &Error{Reason: ErrInvalid, Err: err}
		}
		key, _ := tok.(string)
		var v json.RawMessage
		if err = dec.Decode(&v); err != nil {
			return nil, &Error{Reason: ErrInvalid, Err: err}
		}
		f, ok := formatName(key)
		if !ok {
			continue // unknown keys are ignored, like unknown fields
		}
		n, err := strconv.Atoi(string(v))
		if err != nil {
			return nil, fail(ErrInvalid, "Interval.%s is not an integer", key)
		}
		if out == nil {
			out = make(map[recording.Format]int, 3)
		}
		out[f] = n
	}
	return out, nil
}

// formatName maps a reply's format name to liverec's, case-insensitively: Interval keys are
// "Mp4", "Flv", "M3U8" and Format entries "mp4", "flv", "m3u8" (seed 000); "hls" is liverec's own
// name for M3U8 and is accepted in both places.
func formatName(s string) (recording.Format, bool) {
	switch {
	case strings.EqualFold(s, "mp4"):
		return recording.FormatMP4, true
	case strings.EqualFold(s, "flv"):
		return recording.FormatFLV, true
	case strings.EqualFold(s, "m3u8"), strings.EqualFold(s, "hls"):
		return recording.FormatHLS, true
	}
	return "", false
}

// skipSpace returns the index of the first non-whitespace byte of b (JSON whitespace), or len(b).
func skipSpace(b []byte) int {
	for i, c := range b {
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return i
		}
	}
	return len(b)
}
