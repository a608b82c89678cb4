package recording

import "time"

// Event is an internal recording event. Each callback dialect maps it to its own name.
type Event string

// Internal events.
const (
	EventRecordStarted  Event = "record_started"
	EventRecordPaused   Event = "record_paused"
	EventRecordResumed  Event = "record_resumed"
	EventFileStarted    Event = "file_started"
	EventFileCompleted  Event = "file_completed"
	EventRecordOver     Event = "record_over"
	EventRecordFailed   Event = "record_failed"
	EventOnDemandFailed Event = "ondemand_failed"
)

// Callback dialects: who the receiving business server was written for.
const (
	// DialectStandard sends Standard Webhooks envelopes; the default for native configurations.
	DialectStandard Dialect = "standard"
)

// Huawei callback signing types.
const (
	SignMD5        = "MD5"
	SignHMACSHA256 = "HMACSHA256"
)

// CallbackConfig says where the events of a domain's (and app's) streams go.
type CallbackConfig struct {
	ID      string `json:"id"`
	Project string `json:"project"`
	// Dialect is aliyun, huawei or standard: the body, headers and signature of deliveries.
	Dialect Dialect `json:"dialect"`
	Domain  string  `json:"domain"`
	// App is "*" for every app of the domain; an exact app is preferred over "*".
	App string `json:"app"`
	// URL receives event deliveries (Alibaba NotifyUrl, Huawei notify_callback_url).
	URL string `json:"url"`
	// OnDemandURL is asked whether to record (§5; Alibaba OnDemandUrl).
	OnDemandURL string `json:"on_demand_url,omitempty"`
	// Events are the subscribed internal events; empty means the dialect's default.
	Events []Event `json:"events,omitempty"`
	// NeedStatusNotify sends Alibaba status callbacks (record_started/paused/resumed).
	NeedStatusNotify bool `json:"need_status_notify"`
	// SignType is MD5 or HMACSHA256 (Huawei) when a key is set.
	SignType string `json:"sign_type,omitempty"`
	// Key signs deliveries. It is write-only: never returned by any API, never logged, and
	// stored sealed with the master key (KeySealed); Key holds it in plain form in memory only.
	Key       string `json:"-"`
	KeySealed []byte `json:"-"`
	// HasKey tells API readers that a key is set without revealing it.
	HasKey bool `json:"has_key"`
	// Enabled is false after a receiver answered 410 Gone or an operator disabled it.
	Enabled        bool      `json:"enabled"`
	DisabledReason string    `json:"disabled_reason,omitempty"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
}

// AccessKey authenticates API requests of a project. Its secret is needed in plain
// form to check signatures, so it is stored sealed with the master key.
type AccessKey struct {
	// ID is the AccessKeyId (Alibaba) / AK (Huawei).
	ID      string `json:"id"`
	Project string `json:"project"`
	// Admin keys may act on every project and assign domains.
	Admin        bool       `json:"admin"`
	Description  string     `json:"description,omitempty"`
	SecretSealed []byte     `json:"-"`
	CreatedAt    time.Time  `json:"created_at"`
	RevokedAt    *time.Time `json:"revoked_at,omitempty"`
	// Disabled keys authenticate nothing, and disabling one ends its tokens, until enabled.
	Disabled bool `json:"disabled"`
}

// Token is a bearer token for the native API (X-Auth-Token or Authorization: Bearer). Only
// its SHA-256 hash is stored.
type Token struct {
	ID      string `json:"id"`
	Project string `json:"project"`
	Admin   bool   `json:"admin"`
	// KeyID is the access key the token descends from (minted with it, or with a token of it):
	// the token is valid only while that key is neither revoked nor disabled.
	KeyID     string    `json:"key_id"`
	Hash      []byte    `json:"-"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

// DomainClaim records which project owns a domain (§9 tenancy).
type DomainClaim struct {
	Domain    string    `json:"domain"`
	Project   string    `json:"project"`
	CreatedAt time.Time `json:"created_at"`
}
