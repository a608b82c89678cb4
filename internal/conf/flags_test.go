package conf

import (
	"flag"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestHelpFlagIsErrHelp(t *testing.T) {
	for _, arg := range []string{"-h", "--help"} {
		_, err := Load([]string{"--data", "x", arg}, env(nil))
		require.ErrorIs(t, err, flag.ErrHelp, arg)
	}
}

// The variables without a flag that EnvOnly lists are the ones Load reads.
func TestEnvOnlyLoaded(t *testing.T) {
	c, err := Load(nil, env(map[string]string{
		"LIVEREC_MASTER_KEY":        "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
		"LIVEREC_ACCESS_KEY_ID":     "LRTESTKEY1",
		"LIVEREC_ACCESS_KEY_SECRET": "0123456789abcdef0123",
		"LIVEREC_PROJECT_ID":        "p1",
	}))
	require.NoError(t, err)
	require.Equal(t, "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", c.MasterKey)
	require.Equal(t, "LRTESTKEY1", c.AccessKeyID)
	require.Equal(t, "0123456789abcdef0123", c.AccessKeySecret)
	require.Equal(t, "p1", c.ProjectID)

	var names []string
	for _, v := range EnvOnly() {
		require.NotEmpty(t, v.Default, v.Name)
		require.NotEmpty(t, v.Usage, v.Name)
		names = append(names, v.Name)
	}
	require.Equal(t, []string{"LIVEREC_MASTER_KEY", "LIVEREC_ACCESS_KEY_ID", "LIVEREC_ACCESS_KEY_SECRET",
		"LIVEREC_PROJECT_ID", "GOGC"}, names)
}

func TestEnvName(t *testing.T) {
	require.Equal(t, "LIVEREC_SHUTDOWN_TIMEOUT", EnvName("shutdown-timeout"))
	require.Equal(t, "LIVEREC_HTTP", EnvName("http"))
}
