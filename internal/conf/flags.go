package conf

import (
	"flag"
	"io"
	"strconv"
	"strings"
	"time"
)

// Flags returns the FlagSet of `liverec serve`, bound to c's fields. It is the one definition
// of the flags: Load parses with it and the help lists it, so a flag cannot be missing from
// the help. A usage's `WORD` names the flag's value in the help.
func Flags(c *Config) *flag.FlagSet {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	// The caller prints the help and the errors; flag's own output would repeat them.
	fs.SetOutput(io.Discard)
	fs.StringVar(&c.HTTP, "http", ":8080", "`ADDR` to listen on for the APIs, the console, /metrics, /healthz and /readyz")
	fs.StringVar(&c.RTMP, "rtmp", ":1935", "`ADDR` to listen on for RTMP publishers")
	fs.StringVar(&c.Data, "data", "./data", "data `DIR`: SQLite database, master key, spool, local buckets")
	fs.StringVar(&c.DB, "db", "", "database `URL`: sqlite:PATH, or postgres://… for several nodes (default: SQLite at DATA/liverec.db)")
	fs.StringVar(&c.File, "config", "", "YAML config `FILE`: storage, limits, timeouts, rules (default: none)")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", 30*time.Second, "how long a graceful shutdown may take, a Go `DURATION` such as 90s or 2m")
	return fs
}

// EnvName is the environment variable of a serve flag: LIVEREC_ and its name in upper case.
func EnvName(flagName string) string {
	return "LIVEREC_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// DefaultGCPercent is the Go collector's heap goal (GOGC) of `liverec serve` when GOGC is not
// set: its heap is mostly media buffers recycled through pools and the collector takes about
// half a percent of its CPU, so a heap goal of 1.5× the live heap instead of 2× costs little
// and keeps ~0.1 MiB per recorded stream off the resident set (docs/benchmarks.md).
const DefaultGCPercent = 50

// EnvVar is an environment variable of `liverec serve` that has no flag.
type EnvVar struct {
	Name string
	// Default says what an unset variable means, as the help shows it.
	Default string
	Usage   string
}

// envBinding is an EnvVar and the field Load sets from it; dst is nil for GOGC, which the Go
// runtime and cmd/liverec read.
type envBinding struct {
	EnvVar
	dst *string
}

// envOnly is the one list of the variables without a flag: Load reads them and the help lists
// them.
func envOnly(c *Config) []envBinding {
	return []envBinding{
		{EnvVar{"LIVEREC_MASTER_KEY", "DATA/master.key, a random key created with mode 0600 on first start",
			"key that seals stored secrets: 64 hex digits or the base64 of 32 bytes; every node of a cluster needs the same"}, &c.MasterKey},
		{EnvVar{"LIVEREC_ACCESS_KEY_ID", "none: a database without access keys gets an admin key, printed once",
			"id of an admin access key created or updated at start (at least 8 characters; with LIVEREC_ACCESS_KEY_SECRET)"}, &c.AccessKeyID},
		{EnvVar{"LIVEREC_ACCESS_KEY_SECRET", "none",
			"secret of that key (at least 16 characters)"}, &c.AccessKeySecret},
		{EnvVar{"LIVEREC_PROJECT_ID", "default",
			"project of that key, and of the admin key created on first start"}, &c.ProjectID},
		{EnvVar{"GOGC", strconv.Itoa(DefaultGCPercent),
			"heap goal of the Go collector, in percent of the live heap; read by the Go runtime"}, nil},
	}
}

// EnvOnly lists the environment variables of `liverec serve` that have no flag.
func EnvOnly() []EnvVar {
	var vars []EnvVar
	for _, b := range envOnly(&Config{}) {
		vars = append(vars, b.EnvVar)
	}
	return vars
}
