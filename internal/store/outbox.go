package store

import (
	"context"
	"time"

	"github.com/liverec/liverec/internal/recording"
)

// Change is a set of writes applied in one transaction, so that an event is durable exactly
// when the state change that caused it is (§7 outbox). Every field is optional.
type Change struct {
	RecordingInsert *recording.Recording
	RecordingUpdate *recording.Recording
	// RecordingOwner, when set, makes RecordingUpdate conditional: it applies only while the
	// recording is this node's (or no node's), and otherwise the whole Change gives
	// recording.ErrConflict: a node whose recording another node continued cannot end it.
	RecordingOwner string
	FileInsert     *recording.File
	FileUpdate     *recording.File
	// FileUpdateFrom, when set, makes FileUpdate conditional: it applies only while the stored
	// file is in this state, and otherwise the whole Change gives recording.ErrConflict (so two
	// deleters racing on one file write one file_deleted event). A FileUpdate to FileDeleted of
	// an HLS file marks its slices deleted with it, as Catalog.FileDelete does.
	FileUpdateFrom recording.FileState
	// FileUpdates are more file updates, each conditional on its own From like FileUpdate on
	// FileUpdateFrom: one that no longer holds makes the whole Change give
	// recording.ErrConflict. They are applied after FileUpdate, in order; a batch of deletions
	// is one transaction instead of one per file.
	FileUpdates []FileUpdate
	// Events are appended to the outbox; each one's Deliveries (by event index) are created
	// pending and due at once. Event IDs (prefix EventPrefix) and delivery IDs (prefix
	// DeliveryPrefix) are assigned when empty, as are CreatedAt times.
	Events     []recording.OutboxEvent
	Deliveries [][]recording.Delivery
}

// FileUpdate is one of Change.FileUpdates: File's mutable fields (as Store.FileUpdate writes
// them), applied only while the stored file is in state From when From is set.
type FileUpdate struct {
	File *recording.File
	From recording.FileState
}

// Outbox persists events and their deliveries to callback configurations. Every driver
// implements it beside Store and Control, and storetest covers it.
type Outbox interface {
	// Apply writes a Change in one transaction (ErrNotFound/ErrConflict as the single-row
	// methods give them; nothing is written then). An event of a recording (Data.RecordingID
	// set) with Data.Seq 0 is numbered in the same transaction, after the recording's stored
	// events, so a recording's numbers keep increasing across restarts and nodes.
	Apply(ctx context.Context, c Change) error
	// DeliveryClaim returns up to limit pending deliveries due at now, with their events, that
	// head their OrderKey: no earlier (lower Seq) delivery of the same key is still pending
	// (equal Seqs go in creation order). They come in the order they fell due (NextAt, then
	// creation). Claimed deliveries are leased until now+lease (NextAt moves), so a crashed
	// worker's claims come back.
	DeliveryClaim(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]recording.Delivery, error)
	// DeliveryRecord stores an attempt and the delivery's new state: delivered, failed (given
	// up), or pending again at next.
	DeliveryRecord(ctx context.Context, a recording.Attempt, state recording.DeliveryState, next time.Time, lastErr string) error
	// DeliveryGet returns a delivery of project with its event; ErrNotFound.
	DeliveryGet(ctx context.Context, project, id string) (*recording.Delivery, error)
	// DeliveryList pages a project's deliveries (newest first when OrderDesc) with their events.
	DeliveryList(ctx context.Context, f DeliveryFilter) ([]recording.Delivery, int, error)
	// DeliveryAttempts returns a delivery's attempts, oldest first.
	DeliveryAttempts(ctx context.Context, deliveryID string) ([]recording.Attempt, error)
	// DeliveryRedeliver makes a failed delivery of project pending and due at now;
	// ErrNotFound, or ErrConflict when it is not failed.
	DeliveryRedeliver(ctx context.Context, project, id string, now time.Time) error
	// CallbackDisable marks a callback configuration disabled with a reason (a 410 reply).
	CallbackDisable(ctx context.Context, id, reason string) error
	// EventsOf returns a recording's events in Seq order.
	EventsOf(ctx context.Context, recordingID string) ([]recording.OutboxEvent, error)
}

// DeliveryFilter selects deliveries for DeliveryList.
type DeliveryFilter struct {
	// Project is required.
	Project     string
	CallbackID  string
	RecordingID string
	State       recording.DeliveryState
	Domain      string
	App         string
	Stream      string
	Since       time.Time
	Until       time.Time
	Offset      int
	Limit       int
	OrderDesc   bool
}

// Outbox ID prefixes.
const (
	EventPrefix    = "ev_"
	DeliveryPrefix = "dl_"
)
