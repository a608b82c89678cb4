package conf

import (
	"fmt"
	"io/fs"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/liverec/liverec/internal/filemode"
)

// FileMode is storage.file_mode: the permissions of the files liverec writes into the spool
// and local buckets, written in octal ("0644", "0640"; 0o640 too). Zero is not configured.
type FileMode fs.FileMode

// Perm returns the mode as an fs.FileMode.
func (m FileMode) Perm() fs.FileMode { return fs.FileMode(m) }

// UnmarshalYAML implements yaml.Unmarshaler. The digits are read as octal whether or not they
// are quoted: unquoted, YAML would read 0640 as an octal number but 640 as a decimal one.
func (m *FileMode) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("a file mode must be an octal number such as \"0640\"")
	}
	s := strings.TrimSpace(n.Value)
	digits := strings.TrimPrefix(strings.TrimPrefix(s, "0o"), "0O")
	v, err := strconv.ParseUint(digits, 8, 32)
	if err != nil || digits == "" {
		return fmt.Errorf("%q is not a file mode: must be an octal number such as \"0640\"", s)
	}
	if err := filemode.Check(fs.FileMode(v)); err != nil {
		return fmt.Errorf("file mode %w", err)
	}
	*m = FileMode(v)
	return nil
}

// MarshalYAML implements yaml.Marshaler: four octal digits, quoted.
func (m FileMode) MarshalYAML() (any, error) { return fmt.Sprintf("%04o", uint32(m)), nil }
