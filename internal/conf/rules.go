package conf

import (
	"errors"
	"fmt"
	"slices"

	"github.com/liverec/liverec/internal/recording"
)

// StartRules are the file's rules as the start writes them into the database: in the
// default project unless they name one, in the native dialect unless they name one, and
// normalized. They are copies: the config is left as it was read.
func (c *Config) StartRules() []recording.Rule {
	rules := make([]recording.Rule, len(c.Rules))
	for i, r := range c.Rules {
		r.Formats = slices.Clone(r.Formats) // Normalize writes into them
		if r.Project == "" {
			r.Project = "default"
		}
		if r.Dialect == "" {
			r.Dialect = recording.DialectNative
		}
		r.Normalize()
		rules[i] = r
	}
	return rules
}

// validateRules checks the file's rules as the start writes them (StartRules), so that a bad
// rule is refused with its key and line before anything starts.
func (c *Config) validateRules() []error {
	var errs []error
	for i, r := range c.StartRules() {
		err := r.Validate()
		var invalid *recording.ValidationError
		switch {
		case errors.As(err, &invalid):
			errs = append(errs, keyErr(fmt.Sprintf("rules[%d].%s", i, invalid.Field), "%s", invalid.Reason))
		case err != nil:
			errs = append(errs, keyErr(fmt.Sprintf("rules[%d]", i), "%v", err))
		}
	}
	return errs
}
