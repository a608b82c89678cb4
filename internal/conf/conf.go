// Package conf is liverec's startup configuration: flags and LIVEREC_* environment variables
// (flags.go) plus an optional YAML file for storage endpoints, limits, timeouts and rules. Every
// value has a documented default; Validate names the key of any bad value.
package conf

import (
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/liverec/liverec/internal/filemode"
	"github.com/liverec/liverec/internal/recording"
)

// Config is the whole startup configuration.
type Config struct {
	// HTTP is the address of the APIs, /metrics, /healthz and /readyz. Flag --http, default ":8080".
	HTTP string `yaml:"-"`
	// RTMP is the RTMP listen address. Flag --rtmp, default ":1935".
	RTMP string `yaml:"-"`
	// Data is the data directory: database, master key, default spool and local buckets.
	// Flag --data, default "./data".
	Data string `yaml:"-"`
	// DB is the database URL; empty means SQLite at DATA/liverec.db. Flag --db.
	DB string `yaml:"-"`
	// File is the optional YAML config file. Flag --config.
	File string `yaml:"-"`
	// ShutdownTimeout bounds graceful shutdown. Flag --shutdown-timeout, default 30s.
	ShutdownTimeout time.Duration `yaml:"-"`

	// MasterKey seals stored secrets (LIVEREC_MASTER_KEY; default: DATA/master.key, created
	// with mode 0600 on first start).
	MasterKey string `yaml:"-"`
	// AccessKeyID, AccessKeySecret and ProjectID (LIVEREC_ACCESS_KEY_ID, _SECRET and
	// LIVEREC_PROJECT_ID, default "default") create or update that admin key at start.
	AccessKeyID     string `yaml:"-"`
	AccessKeySecret string `yaml:"-"`
	ProjectID       string `yaml:"-"`

	Storage   Storage   `yaml:"storage"`
	Ingest    Ingest    `yaml:"ingest"`
	Recording Recording `yaml:"recording"`
	API       API       `yaml:"api"`
	Callbacks Callbacks `yaml:"callbacks"`
	Log       Log       `yaml:"log"`
	// Disk is the disk policy: free-space water marks of the data dir and local endpoints.
	Disk Disk `yaml:"disk"`
	// Retention paces the deletion of expired files (rules' retention_s).
	Retention Retention `yaml:"retention"`
	// Cluster configures this node among several on one PostgreSQL.
	Cluster Cluster `yaml:"cluster"`
	// Rules are written into the default project at start (create or replace by key), so a
	// service can be configured without the API.
	Rules []recording.Rule `yaml:"rules"`

	// PublishAuth tunes publish authentication.
	PublishAuth PublishAuth `yaml:"publish_auth"`
}

// Storage declares the spool and the storage endpoints.
type Storage struct {
	// Spool is where files are written while recording. Default DATA/spool.
	Spool     string     `yaml:"spool"`
	Endpoints []Endpoint `yaml:"endpoints"`
	// UploadBandwidth caps the bytes per second that uploads to S3 endpoints send, all
	// together; 0 is no cap.
	UploadBandwidth int64 `yaml:"upload_bandwidth"`
	// PartSize is the multipart part size of S3 uploads. Default 16 MiB, at least 5 MiB.
	PartSize int64 `yaml:"part_size"`
	// DownloadBaseURL is the public base of the signed links liverec serves for objects of local
	// endpoints (download_url). Default: http:// and the --http address.
	DownloadBaseURL string `yaml:"download_base_url"`
	// LinkExpiry is how long a download_url stays valid. Default 24h.
	LinkExpiry Duration `yaml:"link_expiry"`
	// CORSOrigins are the origins whose browser players may fetch the playback paths
	// (/download/…): each "scheme://host[:port]", or "*" for any. Default none: no CORS headers.
	CORSOrigins []string `yaml:"cors_origins"`
	// DiskReserve is how many bytes a file beside the database (DATA/reserve) holds, to be
	// given back when the disk fills so that failures can still be recorded. Default 64 MiB;
	// -1 disables it.
	DiskReserve int64 `yaml:"disk_reserve"`
	// FileMode is the mode of every file liverec writes into the spool and local buckets;
	// the folders it creates there get it plus x where it has r. Default 0644; the owner must
	// read and write.
	FileMode FileMode `yaml:"file_mode"`
}

// Endpoint is a named storage endpoint: "local" (a directory) or "s3" (any S3-compatible
// server: Alibaba OSS, Huawei OBS, MinIO, versitygw, AWS).
type Endpoint struct {
	Name string `yaml:"name"`
	Type string `yaml:"type"`
	// Root is the local endpoint's directory. Default DATA/buckets.
	Root string `yaml:"root"`
	// Aliases are other names that resolve to this endpoint; "*" catches every other name.
	Aliases []string `yaml:"aliases"`
	// S3: the endpoint URL (its scheme decides TLS), region (default us-east-1), keys, path-style
	// addressing, and the public base URL of download_url (default: an expiring presigned URL).
	URL       string `yaml:"url"`
	Region    string `yaml:"region"`
	AccessKey string `yaml:"access_key"`
	SecretKey string `yaml:"secret_key"`
	PathStyle bool   `yaml:"path_style"`
	PublicURL string `yaml:"public_url"`
}

// Ingest holds RTMP limits and timeouts.
type Ingest struct {
	// HandshakeTimeout bounds connect-to-publish. Default 10s.
	HandshakeTimeout Duration `yaml:"handshake_timeout"`
	// IdleTimeout closes a connection that sends nothing for this long. Default 30s.
	IdleTimeout Duration `yaml:"idle_timeout"`
	// PublishIdleTimeout: a publisher silent this long is replaced by a newcomer. Default 5s.
	PublishIdleTimeout Duration `yaml:"publish_idle_timeout"`
	// ReadBatch is the pause between socket reads, so each read takes several packets: wake-ups,
	// not bytes, are what a stream costs (docs/benchmarks.md). Recording tolerates the latency,
	// and the kernel's socket buffer, not liverec's memory, holds the pause's data. Default 1s
	// (at 50 ffmpeg publishers of 2 Mbit/s, FLV only: 0.046 % of a core per stream at 200ms,
	// 0.034 % at 1s).
	ReadBatch Duration `yaml:"read_batch"`
	// MaxConns caps concurrent RTMP connections. Default 1000.
	MaxConns int `yaml:"max_conns"`
	// MaxConnsPerIP caps the RTMP connections from one source address (an IPv6 address by its
	// /64), so that one client cannot hold every place. Default 100.
	MaxConnsPerIP int `yaml:"max_conns_per_ip"`
	// MaxPendingBytes caps the memory all RTMP connections together hold in messages not yet
	// complete, beyond the first 1 MiB of each (a publisher's ordinary frames never count). A
	// connection that would exceed it is closed. Default 256 MiB, at least 10 MiB.
	MaxPendingBytes int64 `yaml:"max_pending_bytes"`
}

// Recording holds recorder settings.
type Recording struct {
	// FlushInterval: a recorder writes what each ingest round brought at once, and at the
	// latest every FlushInterval; merge windows are checked as often. Default 1s.
	FlushInterval Duration `yaml:"flush_interval"`
	// QueueLen is the per-stream queue of ingest batches. Default 512.
	QueueLen int `yaml:"queue_len"`
	// DiscoveryWindow is how much media is held back to learn a stream's tracks. Default 1s.
	DiscoveryWindow Duration `yaml:"discovery_window"`
	// StoreRetryMin/Max bound the backoff for storing completed files. Defaults 1s and 1m.
	StoreRetryMin Duration `yaml:"store_retry_min"`
	StoreRetryMax Duration `yaml:"store_retry_max"`
	// UploadFailureAfter is how long storing a file may keep failing before its recording is
	// reported failed; storing is still retried. Default 10m.
	UploadFailureAfter Duration `yaml:"upload_failure_after"`
	// Workers is how many completed files are finished (MP4 finalization, storing) at once. Default 2.
	Workers int `yaml:"workers"`
	// TimeZone renders template times; default UTC.
	TimeZone string `yaml:"time_zone"`
}

// Callbacks holds event delivery and on-demand settings.
type Callbacks struct {
	// DeliveryTimeout bounds one delivery attempt. Default 5s.
	DeliveryTimeout Duration `yaml:"delivery_timeout"`
	// RetryMin and RetryMax bound the exponential backoff between attempts. Defaults 1s and 1h.
	RetryMin Duration `yaml:"retry_min"`
	RetryMax Duration `yaml:"retry_max"`
	// RetryMaxAge is how long an event is retried before it is given up. Default 24h.
	RetryMaxAge Duration `yaml:"retry_max_age"`
	// Workers is how many deliveries are attempted at once. Default 8.
	Workers int `yaml:"workers"`
	// OnDemandTimeout bounds the on-demand decision request. Default 3s.
	OnDemandTimeout Duration `yaml:"ondemand_timeout"`
	// SignExpiry is how long a Huawei callback signature stays valid (auth_timestamp). Default 10m.
	SignExpiry Duration `yaml:"sign_expiry"`
	// RefusePrivateTargets refuses callback and on-demand requests to private and loopback
	// addresses, checked at connect time. Off by default: a self-hosted recorder usually
	// calls services on its own network.
	RefusePrivateTargets bool `yaml:"refuse_private_targets"`
}

// API holds management API settings.
type API struct {
	// ClaimsAdminOnly: only admin keys may claim a domain; by default the first project that
	// configures a domain owns it.
	ClaimsAdminOnly bool `yaml:"claims_admin_only"`
	// SignatureSkew is how far a signed request's timestamp may be off. Default 15m.
	SignatureSkew Duration `yaml:"signature_skew"`
	// MaxConns caps concurrent HTTP connections, MaxConnsPerIP those from one source address.
	// Defaults 1000 and 100.
	MaxConns      int `yaml:"max_conns"`
	MaxConnsPerIP int `yaml:"max_conns_per_ip"`
	// ReadHeaderTimeout bounds reading a request's header, ReadTimeout the whole request, body
	// included (so slow senders are dropped), WriteTimeout writing the response (a download
	// gets it afresh as long as it progresses), IdleTimeout a kept-alive connection waiting for
	// its next request. Defaults 10s, 30s, 30s and 1m.
	ReadHeaderTimeout Duration `yaml:"read_header_timeout"`
	ReadTimeout       Duration `yaml:"read_timeout"`
	WriteTimeout      Duration `yaml:"write_timeout"`
	IdleTimeout       Duration `yaml:"idle_timeout"`
	// AuthFailureLimit failed authentications from one address within AuthFailureWindow refuse
	// it for AuthFailureCooldown, in every API (see limit.Throttle). Defaults 10, 1m and 5m.
	AuthFailureLimit    int      `yaml:"auth_failure_limit"`
	AuthFailureWindow   Duration `yaml:"auth_failure_window"`
	AuthFailureCooldown Duration `yaml:"auth_failure_cooldown"`
}

// Log configures logging.
type Log struct {
	// Level is debug, info, warn or error. Default info.
	Level string `yaml:"level"`
	// Format is text or json. Default text.
	Format string `yaml:"format"`
}

// Load parses args (without the program and subcommand names), applies LIVEREC_* variables
// from getenv for flags that were not given, reads the config file and validates. -h and
// --help return flag.ErrHelp.
func Load(args []string, getenv func(string) string) (*Config, error) {
	c := &Config{}
	fs := Flags(c)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err // -h or --help: the caller prints the help
		}
		return nil, fmt.Errorf("%w (liverec serve -h lists the flags)", err)
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] {
			return
		}
		env := EnvName(f.Name)
		if v := getenv(env); v != "" {
			if err := f.Value.Set(v); err != nil {
				envErr = errors.Join(envErr, fmt.Errorf("%s: %w", env, err))
			}
		}
	})
	if envErr != nil {
		return nil, envErr
	}
	for _, v := range envOnly(c) {
		if v.dst != nil {
			*v.dst = getenv(v.Name)
		}
	}
	var where keyPositions
	if c.File != "" {
		b, err := os.ReadFile(c.File)
		if err != nil {
			return nil, fmt.Errorf("read config file: %w", err)
		}
		if where, err = c.readFile(b); err != nil {
			return nil, err // it names the file, line and key
		}
	}
	c.setDefaults()
	if err := c.Validate(); err != nil {
		return nil, where.locate(c.File, err)
	}
	return c, nil
}

func (c *Config) setDefaults() {
	if c.Storage.Spool == "" {
		c.Storage.Spool = filepath.Join(c.Data, "spool")
	}
	hasLocal := false
	for i := range c.Storage.Endpoints {
		e := &c.Storage.Endpoints[i]
		if e.Type == "" {
			e.Type = "local"
		}
		if e.Type == "local" && e.Root == "" {
			e.Root = filepath.Join(c.Data, "buckets")
		}
		if e.Type == "s3" && e.Region == "" {
			e.Region = "us-east-1"
		}
		if e.Name == "local" {
			hasLocal = true
		}
	}
	if !hasLocal {
		c.Storage.Endpoints = append(c.Storage.Endpoints, Endpoint{Name: "local", Type: "local",
			Root: filepath.Join(c.Data, "buckets"), Aliases: []string{"*"}})
	}
	def := func(d *Duration, v time.Duration) {
		if *d == 0 {
			*d = Duration(v)
		}
	}
	if c.Storage.PartSize == 0 {
		c.Storage.PartSize = 16 << 20
	}
	switch c.Storage.DiskReserve {
	case 0:
		c.Storage.DiskReserve = 64 << 20
	case -1:
		c.Storage.DiskReserve = 0
	}
	def(&c.Storage.LinkExpiry, 24*time.Hour)
	if c.Storage.FileMode == 0 {
		c.Storage.FileMode = FileMode(filemode.Default)
	}
	if len(c.Storage.CORSOrigins) == 0 {
		c.Storage.CORSOrigins = nil // "cors_origins: []" is the default, not another value
	}
	def(&c.Ingest.HandshakeTimeout, 10*time.Second)
	def(&c.Ingest.IdleTimeout, 30*time.Second)
	def(&c.Ingest.PublishIdleTimeout, 5*time.Second)
	def(&c.Ingest.ReadBatch, time.Second)
	if c.Ingest.MaxConns == 0 {
		c.Ingest.MaxConns = 1000
	}
	if c.Ingest.MaxConnsPerIP == 0 {
		c.Ingest.MaxConnsPerIP = 100
	}
	if c.Ingest.MaxPendingBytes == 0 {
		c.Ingest.MaxPendingBytes = 256 << 20
	}
	if c.API.MaxConns == 0 {
		c.API.MaxConns = 1000
	}
	if c.API.MaxConnsPerIP == 0 {
		c.API.MaxConnsPerIP = 100
	}
	def(&c.API.ReadHeaderTimeout, 10*time.Second)
	def(&c.API.ReadTimeout, 30*time.Second)
	def(&c.API.WriteTimeout, 30*time.Second)
	def(&c.API.IdleTimeout, time.Minute)
	if c.API.AuthFailureLimit == 0 {
		c.API.AuthFailureLimit = 10
	}
	def(&c.API.AuthFailureWindow, time.Minute)
	def(&c.API.AuthFailureCooldown, 5*time.Minute)
	def(&c.API.SignatureSkew, 15*time.Minute)
	def(&c.Callbacks.DeliveryTimeout, 5*time.Second)
	def(&c.Callbacks.RetryMin, time.Second)
	def(&c.Callbacks.RetryMax, time.Hour)
	def(&c.Callbacks.RetryMaxAge, 24*time.Hour)
	def(&c.Callbacks.OnDemandTimeout, 3*time.Second)
	def(&c.Callbacks.SignExpiry, 10*time.Minute)
	if c.Callbacks.Workers == 0 {
		c.Callbacks.Workers = 8
	}
	def(&c.Recording.FlushInterval, time.Second)
	def(&c.Recording.DiscoveryWindow, time.Second)
	def(&c.Recording.StoreRetryMin, time.Second)
	def(&c.Recording.StoreRetryMax, time.Minute)
	def(&c.Recording.UploadFailureAfter, 10*time.Minute)
	if c.Recording.QueueLen == 0 {
		c.Recording.QueueLen = 512
	}
	if c.Recording.Workers == 0 {
		c.Recording.Workers = 2
	}
	if c.Recording.TimeZone == "" {
		c.Recording.TimeZone = "UTC"
	}
	c.PublishAuth.setDefaults()
	c.Disk.setDefaults()
	c.Retention.setDefaults()
	c.Cluster.setDefaults()
	if c.ProjectID == "" {
		c.ProjectID = "default"
	}
	if c.Log.Level == "" {
		c.Log.Level = "info"
	}
	if c.Log.Format == "" {
		c.Log.Format = "text"
	}
}

// Validate checks every value and names the key of each bad one; Load adds the config file's
// line of the keys written there.
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, a ...any) { errs = append(errs, keyErr(key, format, a...)) }
	if c.ShutdownTimeout <= 0 {
		bad("shutdown-timeout", "must be greater than zero")
	}
	if c.DB != "" && !strings.HasPrefix(c.DB, "sqlite:") && !strings.HasPrefix(c.DB, "postgres://") &&
		!strings.HasPrefix(c.DB, "postgresql://") {
		bad("db", "must be sqlite:PATH or a postgres:// URL")
	}
	if (c.AccessKeyID == "") != (c.AccessKeySecret == "") {
		bad("LIVEREC_ACCESS_KEY_ID", "and LIVEREC_ACCESS_KEY_SECRET must be set together")
	}
	if c.AccessKeyID != "" && (len(c.AccessKeyID) < 8 || len(c.AccessKeySecret) < 16) {
		bad("LIVEREC_ACCESS_KEY_ID", "must be at least 8 characters and its secret at least 16")
	}
	names := map[string]bool{}
	for i, e := range c.Storage.Endpoints {
		key := fmt.Sprintf("storage.endpoints[%d]", i)
		if e.Name == "" {
			bad(key+".name", "is required")
		}
		if names[e.Name] {
			bad(key+".name", "%q is declared twice", e.Name)
		}
		names[e.Name] = true
		switch e.Type {
		case "local":
		case "s3":
			if u, err := url.Parse(e.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				bad(key+".url", "%q is not an http(s) URL", e.URL)
			}
			if e.AccessKey == "" || e.SecretKey == "" {
				bad(key+".access_key", "and secret_key are required for an s3 endpoint")
			}
			if e.PublicURL != "" {
				if u, err := url.Parse(e.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") {
					bad(key+".public_url", "%q is not an http(s) URL", e.PublicURL)
				}
			}
		default:
			bad(key+".type", "%q is not a storage type (local or s3)", e.Type)
		}
	}
	if c.Storage.PartSize < 5<<20 {
		bad("storage.part_size", "must be at least 5 MiB (S3's smallest part)")
	}
	if c.Storage.DiskReserve < 0 {
		bad("storage.disk_reserve", "must be a byte count, or -1 for none")
	}
	if c.Storage.UploadBandwidth < 0 {
		bad("storage.upload_bandwidth", "must not be negative")
	}
	if err := filemode.Check(c.Storage.FileMode.Perm()); err != nil {
		bad("storage.file_mode", "%v", err)
	}
	for i, o := range c.Storage.CORSOrigins {
		if !validOrigin(o) {
			bad(fmt.Sprintf("storage.cors_origins[%d]", i), "%q must be \"*\" or an origin: scheme://host[:port], no path", o)
		}
	}
	for key, d := range map[string]Duration{
		"ingest.handshake_timeout": c.Ingest.HandshakeTimeout, "ingest.idle_timeout": c.Ingest.IdleTimeout,
		"ingest.publish_idle_timeout": c.Ingest.PublishIdleTimeout, "ingest.read_batch": c.Ingest.ReadBatch,
		"recording.flush_interval": c.Recording.FlushInterval, "recording.discovery_window": c.Recording.DiscoveryWindow,
		"recording.store_retry_min": c.Recording.StoreRetryMin, "recording.store_retry_max": c.Recording.StoreRetryMax,
		"recording.upload_failure_after": c.Recording.UploadFailureAfter, "storage.link_expiry": c.Storage.LinkExpiry,
		"api.signature_skew":      c.API.SignatureSkew,
		"api.read_header_timeout": c.API.ReadHeaderTimeout, "api.read_timeout": c.API.ReadTimeout,
		"api.write_timeout": c.API.WriteTimeout, "api.idle_timeout": c.API.IdleTimeout,
		"api.auth_failure_window": c.API.AuthFailureWindow, "api.auth_failure_cooldown": c.API.AuthFailureCooldown,
		"callbacks.delivery_timeout": c.Callbacks.DeliveryTimeout, "callbacks.retry_min": c.Callbacks.RetryMin,
		"callbacks.retry_max": c.Callbacks.RetryMax, "callbacks.retry_max_age": c.Callbacks.RetryMaxAge,
		"callbacks.ondemand_timeout": c.Callbacks.OnDemandTimeout, "callbacks.sign_expiry": c.Callbacks.SignExpiry,
	} {
		if d < 0 {
			bad(key, "must not be negative")
		}
	}
	if c.Ingest.ReadBatch.D() > time.Second {
		bad("ingest.read_batch", "must be at most 1s")
	}
	if c.Ingest.MaxConns < 0 {
		bad("ingest.max_conns", "must not be negative")
	}
	for key, n := range map[string]int{"ingest.max_conns_per_ip": c.Ingest.MaxConnsPerIP,
		"api.max_conns": c.API.MaxConns, "api.max_conns_per_ip": c.API.MaxConnsPerIP,
		"api.auth_failure_limit": c.API.AuthFailureLimit} {
		if n < 0 {
			bad(key, "must not be negative")
		}
	}
	if c.Ingest.MaxPendingBytes < 10<<20 {
		bad("ingest.max_pending_bytes", "must be at least 10 MiB (one message of the largest size)")
	}
	if c.Recording.QueueLen < 0 || c.Recording.Workers < 0 {
		bad("recording", "queue_len and workers must not be negative")
	}
	if _, err := time.LoadLocation(c.Recording.TimeZone); err != nil {
		bad("recording.time_zone", "%v", err)
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		bad("log.level", "must be debug, info, warn or error")
	}
	if c.Log.Format != "text" && c.Log.Format != "json" {
		bad("log.format", "must be text or json")
	}
	errs = append(errs, c.PublishAuth.validate()...)
	errs = append(errs, c.Disk.validate()...)
	errs = append(errs, c.Retention.validate()...)
	errs = append(errs, c.Cluster.validate()...)
	errs = append(errs, c.validateRules()...)
	return errors.Join(errs...)
}

// Location returns the time zone of template times.
func (c *Config) Location() *time.Location {
	loc, err := time.LoadLocation(c.Recording.TimeZone)
	if err != nil {
		return time.UTC
	}
	return loc
}
