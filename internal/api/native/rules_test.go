package native

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/service"
)

func (r response) rule(t *testing.T) recording.Rule {
	t.Helper()
	var rule recording.Rule
	require.NoError(t, json.Unmarshal(r.body, &rule), string(r.body))
	return rule
}

func (r response) list(t *testing.T) ruleList {
	t.Helper()
	var l ruleList
	require.NoError(t, json.Unmarshal(r.body, &l), string(r.body))
	return l
}

const minimalRule = `{"domain":"A.com","app":"live","formats":[{"format":"flv"},{"format":"hls","cycle_s":0,"merge_window_s":0}]}`

func TestCreateFillsDefaultsAndGetReturnsIt(t *testing.T) {
	t.Parallel()
	c := newServer(t)
	resp := c.json("p1", http.MethodPost, "/api/v1/rules", minimalRule)
	require.Equal(t, http.StatusCreated, resp.status, string(resp.body))
	got := resp.rule(t)
	require.Equal(t, "/api/v1/rules/"+got.ID, resp.header.Get("Location"))
	require.NotEmpty(t, got.ID)
	require.False(t, got.CreatedAt.IsZero())

	want := recording.Rule{
		ID: got.ID, Project: "p1", Dialect: recording.DialectNative, Domain: "a.com", App: "live", Stream: "*",
		Mode: recording.ModeAuto,
		Formats: []recording.FormatConfig{
			recording.DefaultFormatConfig(recording.FormatFLV),
			{Format: recording.FormatHLS, CycleS: 0, SliceS: 10, MergeWindowS: 0,
				ObjectTemplate: recording.DefaultFileTemplate, SliceTemplate: recording.DefaultSliceTemplate},
		},
		Storage:   recording.Storage{Endpoint: "local", Bucket: "recordings"},
		CreatedAt: got.CreatedAt, UpdatedAt: got.UpdatedAt,
	}
	require.Equal(t, want, got)

	resp = c.json("p1", http.MethodGet, "/api/v1/rules/"+got.ID, "")
	require.Equal(t, http.StatusOK, resp.status)
	require.Equal(t, want, resp.rule(t))
}

func TestCreateDuplicateKeyConflicts(t *testing.T) {
	t.Parallel()
	c := newServer(t)
	require.Equal(t, http.StatusCreated, c.json("p1", http.MethodPost, "/api/v1/rules", minimalRule).status)
	c.json("p1", http.MethodPost, "/api/v1/rules", strings.Replace(minimalRule, "A.com", "a.com", 1)).
		requireError(t, http.StatusConflict, codeConflict, "")
	// The same key in another project is another rule. A domain has one owner, so an admin
	// hands a.com to p2 first; p1's rule stays p1's.
	require.Equal(t, http.StatusOK, c.send(c.admin(), http.MethodPut, "/api/v1/domains/a.com", "application/json", `{"project":"p2"}`).status)
	require.Equal(t, http.StatusCreated, c.json("p2", http.MethodPost, "/api/v1/rules", minimalRule).status)
}

// badRules are request bodies refused with 400 and the field they name; shared by POST and PUT.
var badRules = []struct {
	name, body, field string
}{
	{"CycleBelowRange", `{"domain":"a.com","app":"live","formats":[{"format":"flv","cycle_s":4}]}`, "formats[0].cycle_s"},
	{"CycleAboveRange", `{"domain":"a.com","app":"live","formats":[{"format":"mp4","cycle_s":43201}]}`, "formats[0].cycle_s"},
	{"SliceAboveRange", `{"domain":"a.com","app":"live","formats":[{"format":"flv"},{"format":"hls","slice_s":61}]}`, "formats[1].slice_s"},
	{"MergeWindowMinusOne", `{"domain":"a.com","app":"live","formats":[{"format":"flv","merge_window_s":-1}]}`, "formats[0].merge_window_s"},
	{"MergeWindowAboveRange", `{"domain":"a.com","app":"live","formats":[{"format":"flv","merge_window_s":21601}]}`, "formats[0].merge_window_s"},
	{"SliceOnFLV", `{"domain":"a.com","app":"live","formats":[{"format":"flv","slice_s":10}]}`, "formats[0].slice_s"},
	{"UnknownFormat", `{"domain":"a.com","app":"live","formats":[{"format":"m3u8"}]}`, "formats[0].format"},
	{"DuplicateFormat", `{"domain":"a.com","app":"live","formats":[{"format":"flv"},{"format":"FLV"}]}`, "formats[1].format"},
	{"NoFormats", `{"domain":"a.com","app":"live"}`, "formats"},
	{"UnknownTemplateVariable", `{"domain":"a.com","app":"live","formats":[{"format":"flv","object_template":"{Date}"}]}`, "formats[0].object_template"},
	{"NoDomain", `{"app":"live","formats":[{"format":"flv"}]}`, "domain"},
	{"BadApp", `{"domain":"a.com","app":"..","formats":[{"format":"flv"}]}`, "app"},
	{"BadStream", `{"domain":"a.com","app":"live","stream":"a/b","formats":[{"format":"flv"}]}`, "stream"},
	{"UnknownMode", `{"domain":"a.com","app":"live","mode":"always","formats":[{"format":"flv"}]}`, "mode"},
	{"PlanWithEndOnly", `{"domain":"a.com","app":"live","mode":"plan","end_time":"2030-01-01T00:00:00Z","formats":[{"format":"flv"}]}`, "start_time"},
	{"PlanWithStartOnly", `{"domain":"a.com","app":"live","mode":"plan","start_time":"2030-01-01T00:00:00Z","formats":[{"format":"flv"}]}`, "end_time"},
	{"PlanEndBeforeStart", `{"domain":"a.com","app":"live","mode":"plan","start_time":"2026-01-02T00:00:00Z","end_time":"2026-01-01T00:00:00Z","formats":[{"format":"flv"}]}`, "end_time"},
	{"BadTime", `{"domain":"a.com","app":"live","mode":"plan","start_time":"yesterday","formats":[{"format":"flv"}]}`, "start_time"},
	{"BadBucket", `{"domain":"a.com","app":"live","formats":[{"format":"flv"}],"storage":{"bucket":"../x"}}`, "storage.bucket"},
	{"UnknownField", `{"domain":"a.com","app":"live","formats":[{"format":"flv"}],"id":"r_mine"}`, "id"},
	{"UnknownFormatField", `{"domain":"a.com","app":"live","formats":[{"format":"flv","cycle":60}]}`, "formats[0].cycle"},
	{"UnknownStorageField", `{"domain":"a.com","app":"live","formats":[{"format":"flv"}],"storage":{"region":"x"}}`, "storage.region"},
	{"WrongType", `{"domain":"a.com","app":"live","formats":[{"format":"flv","cycle_s":"60"}]}`, "formats[0].cycle_s"},
	{"WrongTopLevelType", `{"domain":"a.com","app":"live","formats":"flv"}`, "formats"},
	{"FormatNotAnObject", `{"domain":"a.com","app":"live","formats":[5]}`, "formats[0]"},
	{"NotAnObject", `[1]`, ""},
	{"Malformed", `{"domain":`, ""},
	{"TrailingData", minimalRule + `{}`, ""},
	{"EmptyBody", ``, ""},
}

func TestBadRulesAreRefusedWithTheirField(t *testing.T) {
	t.Parallel()
	c := newServer(t)
	existing := c.json("p1", http.MethodPost, "/api/v1/rules", minimalRule).rule(t)
	for _, tc := range badRules {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c.json("p1", http.MethodPost, "/api/v1/rules", tc.body).
				requireError(t, http.StatusBadRequest, codeInvalidArgument, tc.field)
			c.json("p1", http.MethodPut, "/api/v1/rules/"+existing.ID, tc.body).
				requireError(t, http.StatusBadRequest, codeInvalidArgument, tc.field)
		})
	}
	t.Run("NothingWasWritten", func(t *testing.T) {
		// Runs after the parallel subtests above.
		l := c.json("p1", http.MethodGet, "/api/v1/rules", "").list(t)
		require.Equal(t, 1, l.Total)
		require.Equal(t, existing, l.Rules[0])
	})
}

func TestWritesRefuseWhatIsNotJSON(t *testing.T) {
	t.Parallel()
	c := newServer(t)
	id := c.json("p1", http.MethodPost, "/api/v1/rules", minimalRule).rule(t).ID
	for _, ct := range []string{"", "text/plain", "application/x-www-form-urlencoded", "json"} {
		c.do("p1", http.MethodPost, "/api/v1/rules", ct, minimalRule).
			requireError(t, http.StatusUnsupportedMediaType, codeUnsupportedMedia, "")
		c.do("p1", http.MethodPut, "/api/v1/rules/"+id, ct, minimalRule).
			requireError(t, http.StatusUnsupportedMediaType, codeUnsupportedMedia, "")
	}
	for _, ct := range []string{"application/json; charset=utf-8", "application/merge-patch+json"} {
		require.Equal(t, http.StatusOK, c.do("p1", http.MethodPut, "/api/v1/rules/"+id, ct, minimalRule).status, ct)
	}
}

func TestBodiesOverOneMebibyteAreRefused(t *testing.T) {
	t.Parallel()
	c := newServer(t)
	big := `{"domain":"a.com","app":"live","stream":"` + strings.Repeat("x", maxBodyBytes) + `"}`
	c.json("p1", http.MethodPost, "/api/v1/rules", big).requireError(t, http.StatusRequestEntityTooLarge, codeTooLarge, "")
	// Just under the cap is read (and then judged on its content).
	fits := `{"domain":"a.com","app":"live","formats":[{"format":"flv"}]}` + strings.Repeat(" ", maxBodyBytes-100)
	require.Equal(t, http.StatusCreated, c.json("p1", http.MethodPost, "/api/v1/rules", fits).status)
}

func TestUnauthenticatedRequestsAreRefused(t *testing.T) {
	t.Parallel()
	c := newServer(t)
	for _, m := range []struct{ method, path string }{
		{http.MethodGet, "/api/v1/rules"},
		{http.MethodPost, "/api/v1/rules"},
		{http.MethodGet, "/api/v1/rules/r_x"},
		{http.MethodPut, "/api/v1/rules/r_x"},
		{http.MethodDelete, "/api/v1/rules/r_x"},
	} {
		c.json("", m.method, m.path, minimalRule).requireError(t, http.StatusUnauthorized, codeUnauthenticated, "")
	}
}

func TestRuleLifecycle(t *testing.T) {
	t.Parallel()
	c := newServer(t)
	created := c.json("p1", http.MethodPost, "/api/v1/rules", minimalRule).rule(t)
	other := c.json("p1", http.MethodPost, "/api/v1/rules", `{"domain":"a.com","app":"vod","formats":[{"format":"mp4"}]}`).rule(t)
	path := "/api/v1/rules/" + created.ID

	// Update replaces the rule; fields left out get their defaults again.
	resp := c.json("p1", http.MethodPut, path, `{"domain":"a.com","app":"live","stream":"s1","mode":"manual",
		"formats":[{"format":"mp4","cycle_s":60}],"storage":{"endpoint":"store1","bucket":"bkt","base_path":"/t/"}}`)
	require.Equal(t, http.StatusOK, resp.status, string(resp.body))
	updated := resp.rule(t)
	require.Equal(t, created.ID, updated.ID)
	require.Equal(t, created.CreatedAt, updated.CreatedAt)
	require.Equal(t, "s1", updated.Stream)
	require.Equal(t, recording.ModeManual, updated.Mode)
	require.Equal(t, []recording.FormatConfig{{Format: recording.FormatMP4, CycleS: 60, MergeWindowS: 30,
		ObjectTemplate: recording.DefaultFileTemplate}}, updated.Formats)
	require.Equal(t, recording.Storage{Endpoint: "store1", Bucket: "bkt", BasePath: "t"}, updated.Storage)
	require.Equal(t, updated, c.json("p1", http.MethodGet, path, "").rule(t))

	// Moving onto another rule's key conflicts.
	c.json("p1", http.MethodPut, path, `{"domain":"a.com","app":"vod","formats":[{"format":"flv"}]}`).
		requireError(t, http.StatusConflict, codeConflict, "")

	// Another project cannot see, change or delete it.
	c.json("p2", http.MethodGet, path, "").requireError(t, http.StatusNotFound, codeNotFound, "")
	c.json("p2", http.MethodPut, path, minimalRule).requireError(t, http.StatusNotFound, codeNotFound, "")
	c.json("p2", http.MethodDelete, path, "").requireError(t, http.StatusNotFound, codeNotFound, "")
	require.Equal(t, ruleList{Total: 0, Rules: []recording.Rule{}}, c.json("p2", http.MethodGet, "/api/v1/rules", "").list(t))

	resp = c.json("p1", http.MethodDelete, path, "")
	require.Equal(t, http.StatusNoContent, resp.status)
	require.Empty(t, resp.body)
	c.json("p1", http.MethodGet, path, "").requireError(t, http.StatusNotFound, codeNotFound, "")
	c.json("p1", http.MethodPut, path, minimalRule).requireError(t, http.StatusNotFound, codeNotFound, "")
	c.json("p1", http.MethodDelete, path, "").requireError(t, http.StatusNotFound, codeNotFound, "")
	require.Equal(t, ruleList{Total: 1, Rules: []recording.Rule{other}}, c.json("p1", http.MethodGet, "/api/v1/rules", "").list(t))
}

func TestListFiltersAndPages(t *testing.T) {
	t.Parallel()
	c := newServer(t)
	var ids []string
	for _, k := range [][3]string{{"a.com", "live", ""}, {"a.com", "live", "s1"}, {"b.com", "live", ""}, {"a.com", "vod", ""}} {
		body := `{"domain":"` + k[0] + `","app":"` + k[1] + `","stream":"` + k[2] + `","formats":[{"format":"flv"}]}`
		resp := c.json("p1", http.MethodPost, "/api/v1/rules", body)
		require.Equal(t, http.StatusCreated, resp.status, string(resp.body))
		ids = append(ids, resp.rule(t).ID)
	}
	cases := []struct {
		query string
		want  []string
		total int
	}{
		{"", ids, 4},
		{"?limit=2", ids[:2], 4},
		{"?offset=1&limit=2", ids[1:3], 4},
		{"?offset=10", []string{}, 4},
		{"?order=desc&limit=1", ids[3:], 4},
		{"?domain=A.COM", []string{ids[0], ids[1], ids[3]}, 3},
		{"?domain=a.com&app=live", ids[:2], 2},
		{"?stream=s1", ids[1:2], 1},
		{"?stream=*", []string{ids[0], ids[2], ids[3]}, 3},
		{"?app=none", []string{}, 0},
	}
	for _, tc := range cases {
		l := c.json("p1", http.MethodGet, "/api/v1/rules"+tc.query, "").list(t)
		got := []string{}
		for _, r := range l.Rules {
			got = append(got, r.ID)
		}
		require.Equal(t, tc.want, got, tc.query)
		require.Equal(t, tc.total, l.Total, tc.query)
	}
	for _, q := range []struct{ query, field string }{
		{"?limit=0", "limit"}, {"?limit=1001", "limit"}, {"?limit=x", "limit"},
		{"?offset=-1", "offset"}, {"?offset=1.5", "offset"}, {"?order=up", "order"},
	} {
		c.json("p1", http.MethodGet, "/api/v1/rules"+q.query, "").requireError(t, http.StatusBadRequest, codeInvalidArgument, q.field)
	}
}

func TestUnknownRoutesAndMethodsAnswerJSON(t *testing.T) {
	t.Parallel()
	c := newServer(t)
	c.json("p1", http.MethodGet, "/api/v1/nothing", "").requireError(t, http.StatusNotFound, codeNotFound, "")
	resp := c.json("p1", http.MethodPatch, "/api/v1/rules/r_x", "{}")
	resp.requireError(t, http.StatusMethodNotAllowed, codeMethodNotAllowed, "")
	require.Contains(t, resp.header.Get("Allow"), "PUT")
	c.json("p1", http.MethodDelete, "/api/v1/rules", "").requireError(t, http.StatusMethodNotAllowed, codeMethodNotAllowed, "")
}

func TestStoreFailuresAreInternalErrorsWithoutDetails(t *testing.T) {
	t.Parallel()
	c := serve(t, failingService{}, &clock{}, func(p service.Principal) string { return p.Project })
	for _, r := range []response{
		c.json("p1", http.MethodGet, "/api/v1/rules", ""),
		c.json("p1", http.MethodPost, "/api/v1/rules", minimalRule),
		c.json("p1", http.MethodGet, "/api/v1/rules/r_x", ""),
		c.json("p1", http.MethodPut, "/api/v1/rules/r_x", minimalRule),
		c.json("p1", http.MethodDelete, "/api/v1/rules/r_x", ""),
	} {
		r.requireError(t, http.StatusInternalServerError, codeInternal, "")
		require.NotContains(t, string(r.body), "secret")
	}
}
