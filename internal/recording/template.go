package recording

import (
	"fmt"
	"slices"
	"strings"
)

// MaxTemplateBytes is the longest object or slice template accepted, in bytes (Alibaba's
// "< 256 bytes").
const MaxTemplateBytes = 255

// templateVariables are the variables of §8: Alibaba's, Huawei's and {Domain}. Both sets work in
// any template whatever the dialect that wrote the rule.
var templateVariables = [...]string{
	// Alibaba.
	"AppName", "StreamName", "Sequence", "StartTime", "EndTime",
	"EscapedStartTime", "EscapedEndTime", "UnixTimestamp",
	// Huawei.
	"publish_domain", "app", "stream", "record_type", "record_format",
	"file_start_time", "file_start_time_unix", "file_end_time_unix", "ts_sequence_number",
	// liverec.
	"Domain",
}

// IsTemplateVariable reports whether name (without braces) is a known template variable.
func IsTemplateVariable(name string) bool {
	return slices.Contains(templateVariables[:], name)
}

// TemplateVariables returns the variables tmpl uses, in order of appearance. It fails on an
// unknown variable or an unbalanced brace, since either would end up verbatim in object keys.
func TemplateVariables(tmpl string) ([]string, error) {
	var vars []string
	for rest := tmpl; rest != ""; {
		open := strings.IndexAny(rest, "{}")
		if open < 0 {
			break
		}
		if rest[open] == '}' {
			return nil, fmt.Errorf("unbalanced '}'")
		}
		end := strings.IndexAny(rest[open+1:], "{}")
		if end < 0 || rest[open+1+end] != '}' {
			return nil, fmt.Errorf("unbalanced '{'")
		}
		name := rest[open+1 : open+1+end]
		if !IsTemplateVariable(name) {
			return nil, fmt.Errorf("unknown variable {%s}", name)
		}
		vars = append(vars, name)
		rest = rest[open+1+end+1:]
	}
	return vars, nil
}

// CheckTemplate checks an object or slice template: non-empty, at most MaxTemplateBytes, known
// variables only, and no control characters, backslashes or ".." segments (templates become
// object keys and, on local storage, paths).
func CheckTemplate(tmpl string) error {
	switch {
	case tmpl == "":
		return fmt.Errorf("must not be empty")
	case len(tmpl) > MaxTemplateBytes:
		return fmt.Errorf("must be at most %d bytes", MaxTemplateBytes)
	}
	if err := checkKeyPath(tmpl); err != nil {
		return err
	}
	_, err := TemplateVariables(tmpl)
	return err
}

// checkKeyPath refuses what could escape a bucket's directory or corrupt a key.
func checkKeyPath(p string) error {
	for _, c := range p {
		if c < 0x20 || c == 0x7f || c == '\\' {
			return fmt.Errorf("must not contain control characters or '\\'")
		}
	}
	for seg := range strings.SplitSeq(p, "/") {
		if seg == ".." || seg == "." {
			return fmt.Errorf("must not contain '.' or '..' path segments")
		}
	}
	return nil
}
