package conf

import (
	"errors"
	"fmt"
	"slices"

	"github.com/liverec/liverec/internal/recording"
)

// validateRules checks the file's rules as the start writes them into the default project
// (internal/app seedRules: project "default", native dialect, then Normalize), so that a bad
// rule is refused with its key and line before anything starts.
func (c *Config) validateRules() []error {
	var errs []error
	for i, r := range c.Rules {
		r.Formats = slices.Clone(r.Formats) // Normalize writes into them
		if r.Project == "" {
			r.Project = "default"
		}
		r.Normalize()
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
