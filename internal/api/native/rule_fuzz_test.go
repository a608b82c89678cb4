package native

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
)

// asRequest writes a rule back as the body of POST /api/v1/rules.
func asRequest(t *testing.T, r *recording.Rule) []byte {
	type req struct {
		Domain    string                   `json:"domain"`
		App       string                   `json:"app"`
		Stream    string                   `json:"stream"`
		Mode      recording.Mode           `json:"mode"`
		Formats   []recording.FormatConfig `json:"formats"`
		Storage   recording.Storage        `json:"storage"`
		StartTime *string                  `json:"start_time,omitempty"`
		EndTime   *string                  `json:"end_time,omitempty"`
	}
	ts := func(tm *time.Time) *string {
		if tm == nil {
			return nil
		}
		s := tm.Format(time.RFC3339Nano)
		return &s
	}
	b, err := json.Marshal(req{r.Domain, r.App, r.Stream, r.Mode, r.Formats, r.Storage, ts(r.StartTime), ts(r.EndTime)})
	require.NoError(t, err)
	return b
}

// FuzzRuleRequest feeds arbitrary bodies of POST /api/v1/rules through decoding and the
// service's validation (Normalize, Validate): a refusal is a client error naming what is wrong,
// never a 500, and an accepted rule is valid and, written back as a request, decodes and
// validates to the same rule (decode(encode(v)) == v).
func FuzzRuleRequest(f *testing.F) {
	f.Add([]byte(`{"domain":"example.com","app":"live","stream":"*","mode":"auto","formats":[{"format":"mp4","cycle_s":600,
		"merge_window_s":0,"object_template":"{AppName}/{StreamName}/{EscapedStartTime}_{EscapedEndTime}"}],
		"storage":{"endpoint":"local","bucket":"recordings"}}`))
	f.Add([]byte(`{"domain":"A.com","app":"live","stream":"s","mode":"plan","start_time":"2026-01-02T03:04:05+08:00",
		"end_time":"2026-01-03T03:04:05.5Z","formats":[{"format":"HLS"}],"storage":{"base_path":"/a//b/"}}`))
	f.Add([]byte(`{"formats":[{"format":"flv","format":"mp4"}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		decode := func(b []byte) (*recording.Rule, error) {
			r := httptest.NewRequest(http.MethodPost, "/api/v1/rules", bytes.NewReader(b))
			r.Header.Set("Content-Type", "application/json")
			rule, err := decodeRule(httptest.NewRecorder(), r)
			if err != nil {
				return nil, err
			}
			rule.Project = "p1"
			rule.Normalize()
			return rule, rule.Validate()
		}
		rule, err := decode(body)
		if err != nil {
			var br *badRequest
			var ve *recording.ValidationError
			var me *http.MaxBytesError
			require.True(t, errors.As(err, &br) || errors.As(err, &ve) || errors.As(err, &me), "%T %v", err, err)
			if br != nil {
				require.GreaterOrEqual(t, br.status, 400)
				require.Less(t, br.status, 500)
				require.NotEmpty(t, br.Message)
			}
			return
		}
		require.Equal(t, recording.DialectNative, rule.Dialect)
		again, err := decode(asRequest(t, rule))
		require.NoError(t, err, "%s", asRequest(t, rule))
		want, err := json.Marshal(rule)
		require.NoError(t, err)
		got, err := json.Marshal(again)
		require.NoError(t, err)
		require.Equal(t, string(want), string(got))
	})
}
