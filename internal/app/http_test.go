package app

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

// TestFreshDataDirAndConfigRules: a fresh data dir holds the default rule, rules of the
// config file are written at start, and the health, readiness and metrics endpoints answer.
func TestFreshDataDirAndConfigRules(t *testing.T) {
	t.Parallel()
	ta := startApp(t, `
rules:
  - domain: example.com
    app: live
    stream: "*"
    mode: auto
    formats:
      - format: flv
        cycle_s: 60
        merge_window_s: 0
        object_template: "{AppName}/{StreamName}/{EscapedStartTime}_{EscapedEndTime}"
    storage: {endpoint: local, bucket: archive}
`)
	code, body := get(t, ta.base+"/api/v1/rules")
	require.Equal(t, http.StatusUnauthorized, code, "the API needs credentials: %s", body)
	resp := ta.apiRequest(t, http.MethodGet, "/api/v1/rules", nil)
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	code, body = resp.StatusCode, string(b)
	require.Equal(t, http.StatusOK, code, body)
	var list struct {
		Total int `json:"total"`
		Rules []struct {
			Domain, App, Stream, Mode string
			Formats                   []struct {
				Format string `json:"format"`
				CycleS int    `json:"cycle_s"`
			} `json:"formats"`
		} `json:"rules"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &list))
	require.Equal(t, 2, list.Total)
	def, cfg := list.Rules[0], list.Rules[1]
	require.Equal(t, []string{"*", "*", "*", "auto"}, []string{def.Domain, def.App, def.Stream, def.Mode})
	require.Len(t, def.Formats, 3)
	require.Equal(t, "example.com", cfg.Domain)
	require.Equal(t, 60, cfg.Formats[0].CycleS)

	code, body = get(t, ta.base+"/healthz")
	require.Equal(t, http.StatusOK, code, body)
	code, body = get(t, ta.base+"/readyz")
	require.Equal(t, http.StatusOK, code, body)
	require.Contains(t, body, `"database":"ok"`)
	code, body = get(t, ta.base+"/metrics")
	require.Equal(t, http.StatusOK, code)
	for _, name := range []string{"liverec_rtmp_publishers", "liverec_recordings_active", "liverec_spool_backlog_files"} {
		require.True(t, strings.Contains(body, name), "metric %s missing", name)
	}
}

// TestEndpointNamesAndAliases: cloud endpoint names resolve through aliases and a name
// that matches nothing is refused when the rule is written.
func TestEndpointNamesAndAliases(t *testing.T) {
	t.Parallel()
	ta := startApp(t, `
storage:
  endpoints:
    - name: local
      type: local
      aliases: ["oss-cn-shanghai.aliyuncs.com", "cn-north-4"]
`)
	post := func(endpoint string) (int, string) {
		body := `{"domain":"alias.example","app":"` + strings.ReplaceAll(endpoint, ".", "") +
			`","formats":[{"format":"flv"}],"storage":{"endpoint":"` + endpoint + `","bucket":"b"}}`
		resp := ta.apiRequest(t, http.MethodPost, "/api/v1/rules", strings.NewReader(body))
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, ok := range []string{"local", "oss-cn-shanghai.aliyuncs.com", "cn-north-4"} {
		code, body := post(ok)
		require.Equal(t, http.StatusCreated, code, "%s: %s", ok, body)
	}
	code, body := post("oss-cn-beijing.aliyuncs.com")
	require.Equal(t, http.StatusBadRequest, code, body)
	require.Contains(t, body, `"field":"storage.endpoint"`)
}
