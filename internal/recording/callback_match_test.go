package recording

import (
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"
)

// cb is a configuration named project/dialect/app, with both URLs set.
func cb(project string, d Dialect, app string) CallbackConfig {
	return CallbackConfig{ID: project + "/" + string(d) + "/" + app, Project: project, Dialect: d,
		Domain: "a.com", App: app, URL: "http://x/notify", OnDemandURL: "http://x/ask", Enabled: true}
}

func withoutURL(c CallbackConfig) CallbackConfig {
	c.URL = ""
	return c
}

func hasURL(c *CallbackConfig) bool { return c.URL != "" }

// anyDomain is cb with the catch-all domain "*".
func anyDomain(c CallbackConfig) CallbackConfig {
	c.ID, c.Domain = "*/"+c.ID, Wildcard
	return c
}

func TestMatchCallback(t *testing.T) {
	t.Parallel()
	otherDomain := cb("p", DialectAliyun, "live")
	otherDomain.ID, otherDomain.Domain = "b.com", "b.com"
	cases := []struct {
		name string
		cs   []CallbackConfig
		app  string
		use  func(*CallbackConfig) bool
		want string // ID; "" = none
	}{
		{"None", nil, "live", nil, ""},
		{"Wildcard", []CallbackConfig{cb("p", DialectAliyun, "*")}, "live", nil, "p/aliyun/*"},
		{"Exact", []CallbackConfig{cb("p", DialectAliyun, "live")}, "live", nil, "p/aliyun/live"},
		{"ExactBeatsEarlierWildcard", []CallbackConfig{cb("p", DialectAliyun, "*"), cb("p", DialectHuawei, "live")},
			"live", nil, "p/huawei/live"},
		{"ExactBeatsLaterWildcard", []CallbackConfig{cb("p", DialectHuawei, "live"), cb("p", DialectAliyun, "*")},
			"live", nil, "p/huawei/live"},
		{"FirstOfWildcardsWins", []CallbackConfig{cb("p", DialectHuawei, "*"), cb("p", DialectAliyun, "*")},
			"live", nil, "p/huawei/*"},
		{"FirstOfExactsWins", []CallbackConfig{cb("p", DialectHuawei, "live"), cb("p", DialectAliyun, "live")},
			"live", nil, "p/huawei/live"},
		{"OtherAppIgnored", []CallbackConfig{cb("p", DialectAliyun, "vod")}, "live", nil, ""},
		{"AppIsCaseSensitive", []CallbackConfig{cb("p", DialectAliyun, "LIVE")}, "live", nil, ""},
		{"OtherProjectIgnored", []CallbackConfig{cb("q", DialectAliyun, "live"), cb("p", DialectAliyun, "*")},
			"live", nil, "p/aliyun/*"},
		{"OtherDomainIgnored", []CallbackConfig{otherDomain}, "live", nil, ""},
		{"CatchAllDomain", []CallbackConfig{otherDomain, anyDomain(cb("p", DialectAliyun, "*"))}, "live", nil, "*/p/aliyun/*"},
		{"ExactDomainBeatsCatchAll", []CallbackConfig{anyDomain(cb("p", DialectAliyun, "live")), cb("p", DialectHuawei, "*")},
			"live", nil, "p/huawei/*"},
		{"CatchAllExactAppBeatsCatchAllWildcard", []CallbackConfig{anyDomain(cb("p", DialectAliyun, "*")),
			anyDomain(cb("p", DialectHuawei, "live"))}, "live", nil, "*/p/huawei/live"},
		{"CatchAllOfOtherProjectIgnored", []CallbackConfig{anyDomain(cb("q", DialectAliyun, "*"))}, "live", nil, ""},
		{"UnusableExactDoesNotHideWildcard", []CallbackConfig{cb("p", DialectAliyun, "*"), withoutURL(cb("p", DialectAliyun, "live"))},
			"live", hasURL, "p/aliyun/*"},
		{"DisabledStillMatches", []CallbackConfig{cb("p", DialectAliyun, "*"), func() CallbackConfig {
			c := cb("p", DialectAliyun, "live")
			c.Enabled = false
			return c
		}()}, "live", hasURL, "p/aliyun/live"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := MatchCallback(tc.cs, "p", "A.com", tc.app, tc.use)
			if tc.want == "" {
				require.Nil(t, got)
				return
			}
			require.NotNil(t, got)
			require.Equal(t, tc.want, got.ID)
		})
	}
}

func TestMatchCallbacks(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		cs   []CallbackConfig
		want []string // IDs, in order
	}{
		{"None", nil, nil},
		{"OnePerDialect", []CallbackConfig{cb("p", DialectAliyun, "*"), cb("p", DialectHuawei, "*"), cb("p", DialectStandard, "live")},
			[]string{"p/aliyun/*", "p/huawei/*", "p/standard/live"}},
		{"ExactBeatsWildcardPerDialect", []CallbackConfig{cb("p", DialectAliyun, "*"), cb("p", DialectHuawei, "live"),
			cb("p", DialectAliyun, "live"), cb("p", DialectHuawei, "*")},
			[]string{"p/aliyun/live", "p/huawei/live"}},
		{"WildcardKeptWithoutExact", []CallbackConfig{cb("p", DialectHuawei, "live"), cb("p", DialectAliyun, "*")},
			[]string{"p/huawei/live", "p/aliyun/*"}},
		{"UnusableIgnored", []CallbackConfig{withoutURL(cb("p", DialectAliyun, "live")), cb("p", DialectAliyun, "*")},
			[]string{"p/aliyun/*"}},
		{"OtherProjectsAndAppsIgnored", []CallbackConfig{cb("q", DialectAliyun, "live"), cb("p", DialectAliyun, "vod")}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var got []string
			for _, c := range MatchCallbacks(tc.cs, "p", "a.com", "live", hasURL) {
				got = append(got, c.ID)
			}
			require.Equal(t, tc.want, got)
		})
	}
}

func TestCallbackParams(t *testing.T) {
	q := url.Values{"callback_a": {"1", "2"}, "callback_": {"x"}, "record_config": {"y"}, "callback_b": {}, "cb": {"z"}}
	require.Equal(t, map[string]string{"callback_a": "1", "callback_": "x"}, CallbackParams(q))
	require.Empty(t, CallbackParams(nil))
}
