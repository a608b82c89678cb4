package recording

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestMatchRule(t *testing.T) {
	t.Parallel()
	key := func(domain, app, stream string) Rule {
		return Rule{ID: domain + "," + app + "," + stream, Domain: domain, App: app, Stream: stream}
	}
	all := []Rule{
		key("*", "*", "*"),
		key("*", "live", "*"),
		key("*", "live", "test"),
		key("*", "*", "test"),
		key("a.com", "*", "*"),
		key("a.com", "live", "*"),
		key("a.com", "*", "test"),
		key("a.com", "live", "test"),
		key("b.com", "live", "*"),
	}
	cases := []struct {
		name                string
		rules               []Rule
		domain, app, stream string
		want                string // rule ID; "" = no match
	}{
		{"MostSpecificWins", all, "a.com", "live", "test", "a.com,live,test"},
		{"ExactAppBeatsExactStream", all, "a.com", "live", "other", "a.com,live,*"},
		{"ExactStreamUnderWildcardApp", all, "a.com", "vod", "test", "a.com,*,test"},
		{"DomainFallback", all, "a.com", "vod", "other", "a.com,*,*"},
		{"OtherDomainWithWildcards", all, "c.com", "live", "test", "*,live,test"},
		{"OtherDomainAppOnly", all, "c.com", "live", "x", "*,live,*"},
		{"OtherDomainStreamOnly", all, "c.com", "vod", "test", "*,*,test"},
		{"CatchAll", all, "c.com", "vod", "x", "*,*,*"},
		{"ExactDomainOnlyForThatDomain", all, "b.com", "vod", "x", "*,*,*"},
		{"SpecExample", []Rule{key("*", "live", "test"), key("a.com", "*", "*")}, "a.com", "live", "test", "a.com,*,*"},
		{"SpecExampleReversed", []Rule{key("a.com", "*", "*"), key("*", "live", "test")}, "a.com", "live", "test", "a.com,*,*"},
		{"DomainIsCaseInsensitive", all, "A.COM", "vod", "x", "a.com,*,*"},
		{"AppIsCaseSensitive", all, "c.com", "LIVE", "x", "*,*,*"},
		{"EmptyStreamIsWildcard", []Rule{key("a.com", "live", "")}, "a.com", "live", "s", "a.com,live,"},
		{"NoRules", nil, "a.com", "live", "test", ""},
		{"NoMatch", []Rule{key("a.com", "live", "*"), key("*", "vod", "*")}, "b.com", "live", "test", ""},
		{"WildcardDomainOneAppOnAnyDomain", []Rule{key("*", "live", "*")}, "any.example", "live", "x", "*,live,*"},
		{"WildcardDomainOneAppNotOtherApps", []Rule{key("*", "live", "*")}, "any.example", "other", "x", ""},
		{"WildcardDomainOneAppBelowTheDomainsRule", []Rule{key("*", "live", "*"), key("a.com", "*", "*")}, "a.com", "live", "x", "a.com,*,*"},
		{"FirstOfEqualKeysWins", []Rule{{ID: "first", Domain: "a.com", App: "*", Stream: "*"}, {ID: "second", Domain: "a.com", App: "*", Stream: "*"}}, "a.com", "x", "y", "first"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := MatchRule(tc.rules, tc.domain, tc.app, tc.stream)
			if tc.want == "" {
				require.Nil(t, got)
				return
			}
			require.NotNil(t, got)
			require.Equal(t, tc.want, got.ID)
		})
	}
}

// TestMatchRuleTotalOrder checks the precedence against every ordering of the eight keys a
// stream can match: the result never depends on the order of the rules.
func TestMatchRuleTotalOrder(t *testing.T) {
	t.Parallel()
	var rules []Rule
	for _, d := range []string{"*", "a.com"} {
		for _, a := range []string{"*", "live"} {
			for _, s := range []string{"*", "test"} {
				rules = append(rules, Rule{ID: d + "," + a + "," + s, Domain: d, App: a, Stream: s})
			}
		}
	}
	// rules is sorted from weakest to strongest; removing the strongest each time exposes the next.
	for n := len(rules); n > 0; n-- {
		for rot := range n {
			shuffled := append(append([]Rule(nil), rules[rot:n]...), rules[:rot]...)
			got := MatchRule(shuffled, "a.com", "live", "test")
			require.NotNil(t, got)
			require.Equal(t, rules[n-1].ID, got.ID)
		}
	}
}
