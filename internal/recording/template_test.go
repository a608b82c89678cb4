package recording

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestTemplateVariables(t *testing.T) {
	t.Parallel()
	cases := []struct {
		tmpl string
		vars []string
		err  string
	}{
		{tmpl: "plain/name"},
		{tmpl: DefaultFileTemplate, vars: []string{"AppName", "StreamName", "EscapedStartTime", "EscapedEndTime"}},
		{tmpl: "{Domain}/{publish_domain}_{ts_sequence_number}", vars: []string{"Domain", "publish_domain", "ts_sequence_number"}},
		{tmpl: "{StartTime}{EndTime}", vars: []string{"StartTime", "EndTime"}},
		{tmpl: "{Date}", err: "unknown variable {Date}"},
		{tmpl: "{}", err: "unknown variable {}"},
		{tmpl: "{appname}", err: "unknown variable {appname}"},
		{tmpl: "a{AppName", err: "unbalanced '{'"},
		{tmpl: "a{App{Name}", err: "unbalanced '{'"},
		{tmpl: "a}b", err: "unbalanced '}'"},
		{tmpl: "{AppName}}", err: "unbalanced '}'"},
	}
	for _, tc := range cases {
		t.Run(tc.tmpl, func(t *testing.T) {
			t.Parallel()
			vars, err := TemplateVariables(tc.tmpl)
			if tc.err != "" {
				require.EqualError(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.vars, vars)
		})
	}
}

func TestCheckTemplate(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		tmpl string
		ok   bool
	}{
		{"Default", DefaultFileTemplate, true},
		{"Empty", "", false},
		{"TooLong", string(make([]byte, 256)), false},
		{"Newline", "a\n{AppName}", false},
		{"Backslash", `a\{AppName}`, false},
		{"DotDotSegment", "a/../{AppName}", false},
		{"DotSegment", "./{AppName}", false},
		{"DotsInName", "a..b/{AppName}.x", true},
		{"UnknownVariable", "{Hour}", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := CheckTemplate(tc.tmpl)
			if tc.ok {
				require.NoError(t, err)
			} else {
				require.Error(t, err)
			}
		})
	}
}

func TestTemplateVariablesKnown(t *testing.T) {
	t.Parallel()
	require.Len(t, templateVariables, 18)
	for _, v := range templateVariables {
		require.True(t, IsTemplateVariable(v), v)
		vars, err := TemplateVariables("x/{" + v + "}")
		require.NoError(t, err, v)
		require.Equal(t, []string{v}, vars)
	}
}
