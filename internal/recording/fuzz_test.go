package recording

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzCheckTemplate: a template CheckTemplate accepts is short, holds no control character, no
// backslash and no "." or ".." segment, and every brace belongs to a known {Variable}; one it
// refuses says why.
func FuzzCheckTemplate(f *testing.F) {
	for _, s := range []string{DefaultFileTemplate, DefaultSliceTemplate, "{AppName}/../x", "{Unknown}", "a{b", "}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tmpl string) {
		err := CheckTemplate(tmpl)
		if err != nil {
			require.NotEmpty(t, err.Error())
			return
		}
		require.NotEmpty(t, tmpl)
		require.LessOrEqual(t, len(tmpl), MaxTemplateBytes)
		require.False(t, strings.ContainsAny(tmpl, "\\\x7f"))
		for _, c := range tmpl {
			require.GreaterOrEqual(t, c, rune(0x20))
		}
		for _, seg := range strings.Split(tmpl, "/") {
			require.NotContains(t, []string{".", ".."}, seg)
		}
		vars, err := TemplateVariables(tmpl)
		require.NoError(t, err)
		require.Len(t, vars, strings.Count(tmpl, "{"))
		require.Len(t, vars, strings.Count(tmpl, "}"))
		rest := tmpl
		for _, v := range vars {
			require.True(t, IsTemplateVariable(v))
			rest = strings.Replace(rest, "{"+v+"}", "", 1)
		}
		require.False(t, strings.ContainsAny(rest, "{}"), "left %q", rest)
	})
}

// FuzzValidateRule feeds rules as JSON (the shape manifests and the native API carry): Validate
// refuses with a *ValidationError naming a field, and a rule it accepts is a fixed point of
// Normalize, survives a JSON round trip (decode(encode(v)) == v) and still validates.
func FuzzValidateRule(f *testing.F) {
	def := DefaultRule()
	b, err := json.Marshal(def)
	require.NoError(f, err)
	f.Add(b)
	f.Add([]byte(`{"project":"p","dialect":"huawei","domain":"A.com","app":"live","formats":[{"format":"HLS","cycle_s":0,"merge_window_s":-1}],"storage":{"base_path":"/x//y/"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var r Rule
		if json.Unmarshal(data, &r) != nil {
			return
		}
		r.Normalize()
		err := r.Validate()
		if err != nil {
			var ve *ValidationError
			require.True(t, errors.As(err, &ve), "%T %v", err, err)
			require.NotEmpty(t, ve.Field)
			return
		}
		once, err := json.Marshal(r)
		require.NoError(t, err)
		r.Normalize()
		twice, err := json.Marshal(r)
		require.NoError(t, err)
		require.Equal(t, string(once), string(twice), "Normalize is not idempotent")

		var back Rule
		require.NoError(t, json.Unmarshal(once, &back))
		require.NoError(t, back.Validate())
		again, err := json.Marshal(back)
		require.NoError(t, err)
		require.Equal(t, string(once), string(again))
		for _, fc := range back.Formats {
			require.NoError(t, CheckTemplate(fc.ObjectTemplate))
			if fc.Format == FormatHLS {
				require.NoError(t, CheckTemplate(fc.SliceTemplate))
			}
		}
	})
}
