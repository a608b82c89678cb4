package conf

import (
	"bytes"
	"errors"
	"io"

	"gopkg.in/yaml.v3"
)

// decodeFile reads a config file's YAML into c, over what the flags set; an unknown key is an
// error. It takes bytes so that it can be fuzzed.
func (c *Config) decodeFile(b []byte) error {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}
