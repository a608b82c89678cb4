package recording

import "time"

// EventData is everything an event says, in the native model; each callback dialect picks
// and renames the fields it sends. Fields that do not apply to an event are zero.
type EventData struct {
	Project     string `json:"project"`
	RecordingID string `json:"recording_id"`
	Domain      string `json:"domain"`
	App         string `json:"app"`
	Stream      string `json:"stream"`
	// Seq numbers the events of a recording from 1 (Standard Webhooks dialect).
	Seq int64 `json:"seq"`
	// PushArgs are the callback_* ingest parameters, first value only.
	PushArgs map[string]string `json:"push_args,omitempty"`

	// File events (file started / completed).
	FileID      string        `json:"file_id,omitempty"`
	Format      Format        `json:"format,omitempty"`
	Endpoint    string        `json:"endpoint,omitempty"`
	Bucket      string        `json:"bucket,omitempty"`
	ObjectKey   string        `json:"object_key,omitempty"`
	DownloadURL string        `json:"download_url,omitempty"`
	Bytes       int64         `json:"bytes,omitempty"`
	Duration    time.Duration `json:"duration_ns,omitempty"`
	StartTime   *time.Time    `json:"start_time,omitempty"`
	EndTime     *time.Time    `json:"end_time,omitempty"`
	Width       int           `json:"width,omitempty"`
	Height      int           `json:"height,omitempty"`

	// Reason says why a recording failed or an on-demand decision failed, and for a
	// file_deleted event why the file was deleted (DeleteRetention, DeleteDiskFull, DeleteAPI).
	Reason string `json:"reason,omitempty"`
	// Label is an event recording's label (ModeEvent).
	Label string `json:"label,omitempty"`
}

// OutboxEvent is an event as written to the store's outbox, in the same transaction as the
// state change that caused it.
type OutboxEvent struct {
	ID        string    `json:"id"`
	Type      Event     `json:"type"`
	Data      EventData `json:"data"`
	CreatedAt time.Time `json:"created_at"`
}

// DeliveryState is where a delivery of an event to a callback configuration stands.
type DeliveryState string

// Delivery states.
const (
	DeliveryPending   DeliveryState = "pending"
	DeliveryDelivered DeliveryState = "delivered"
	// DeliveryFailed: given up (a 4xx, or retries exhausted); it can be redelivered.
	DeliveryFailed DeliveryState = "failed"
)

// Delivery is one event on its way to one callback configuration. Deliveries that share an
// OrderKey (one stream to one configuration) are attempted strictly in Seq order.
type Delivery struct {
	ID         string        `json:"id"`
	EventID    string        `json:"event_id"`
	CallbackID string        `json:"callback_id"`
	Project    string        `json:"project"`
	OrderKey   string        `json:"order_key"`
	Seq        int64         `json:"seq"`
	State      DeliveryState `json:"state"`
	Attempts   int           `json:"attempts"`
	NextAt     time.Time     `json:"next_at"`
	LastStatus int           `json:"last_status,omitempty"`
	LastError  string        `json:"last_error,omitempty"`
	CreatedAt  time.Time     `json:"created_at"`
	UpdatedAt  time.Time     `json:"updated_at"`
	// Event is filled by claims and lists.
	Event *OutboxEvent `json:"event,omitempty"`
}

// Attempt is one try of a delivery, kept for the delivery log.
type Attempt struct {
	DeliveryID string        `json:"delivery_id"`
	At         time.Time     `json:"at"`
	Status     int           `json:"status"` // 0 when no HTTP answer
	Latency    time.Duration `json:"latency_ns"`
	Error      string        `json:"error,omitempty"`
	// ReplyHead is the start of the reply body.
	ReplyHead string `json:"reply_head,omitempty"`
}
