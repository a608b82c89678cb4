package conf

import (
	"io/fs"
	"testing"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

func TestFileModeDefaultAndForms(t *testing.T) {
	c, err := Load(nil, env(nil))
	require.NoError(t, err)
	require.Equal(t, fs.FileMode(0o644), c.Storage.FileMode.Perm())

	for text, want := range map[string]fs.FileMode{
		`"0640"`: 0o640, `"640"`: 0o640, "0640": 0o640, "640": 0o640, "0o600": 0o600, `"0660"`: 0o660, "0777": 0o777,
	} {
		c, err := loadYAML(t, "storage:\n  file_mode: "+text+"\n")
		require.NoError(t, err, text)
		require.Equal(t, want, c.Storage.FileMode.Perm(), text)
	}
}

func TestFileModeRefusals(t *testing.T) {
	for text, want := range map[string]string{
		`"0444"`:      "does not let the owner read and write",
		`"0000"`:      "does not let the owner read and write",
		`"0240"`:      "does not let the owner read and write",
		`"04644"`:     "has bits beyond the permissions",
		`"1777"`:      "has bits beyond the permissions",
		`"0689"`:      "must be an octal number",
		`"rw-r--r--"`: "must be an octal number",
		`""`:          "must be an octal number",
		`[6, 4, 4]`:   "must be an octal number",
	} {
		_, err := loadYAML(t, "storage:\n  file_mode: "+text+"\n")
		require.ErrorContains(t, err, want, text)
	}
	// A mode set without the file is checked too, under its key.
	c, err := Load(nil, env(nil))
	require.NoError(t, err)
	c.Storage.FileMode = 0o400
	require.ErrorContains(t, c.Validate(), "'storage.file_mode'")
}

func TestFileModeMarshalsAsOctal(t *testing.T) {
	b, err := yaml.Marshal(struct {
		M FileMode `yaml:"m"`
	}{0o640})
	require.NoError(t, err)
	require.Equal(t, "m: \"0640\"\n", string(b))
}
