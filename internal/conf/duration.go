package conf

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"gopkg.in/yaml.v3"
)

// Duration is a time.Duration written as "10s", "1m30s" or "500ms" in the config file.
type Duration time.Duration

// UnmarshalYAML implements yaml.Unmarshaler. Its errors name the value, not the key: the
// config file reader adds the file, line and key.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	const examples = "5s, 500ms, 2m"
	if n.Kind != yaml.ScalarNode {
		return errors.New(mismatch(n, "a duration such as "+examples))
	}
	var s string
	if err := n.Decode(&s); err != nil {
		return fmt.Errorf("%s is not a duration: %w", quoted(n.Value), err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		if _, isNumber := strconv.ParseFloat(s, 64); isNumber == nil {
			return fmt.Errorf("%s is not a duration (use a unit: %s)", quoted(s), examples)
		}
		return fmt.Errorf("%s is not a duration (such as %s)", quoted(s), examples)
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML implements yaml.Marshaler.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }
