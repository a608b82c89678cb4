package stream

import (
	"sync"

	"github.com/liverec/liverec/internal/media"
)

// Batch is a group of units handed from ingest to the recorder in one step: ingest reads a
// connection in batches (perf-notes: wake-ups dominate), and handing them on in one channel
// send keeps the recorder's wake-ups equally few. A Batch owns copies of the unit data, in one
// arena, so ingest may reuse its buffers at once.
type Batch struct {
	Units []media.Unit
	arena []byte
}

var batchPool = sync.Pool{New: func() any { return new(Batch) }}

// NewBatch returns an empty batch from the pool.
func NewBatch() *Batch { return batchPool.Get().(*Batch) }

// Add appends a copy of u.
func (b *Batch) Add(u *media.Unit) {
	start := len(b.arena)
	b.arena = append(b.arena, u.Data...)
	c := *u
	c.Data = b.arena[start:len(b.arena):len(b.arena)]
	b.Units = append(b.Units, c)
}

// Release returns the batch to the pool; its units must not be used afterwards.
func (b *Batch) Release() {
	// Re-point earlier units' data if the arena was reallocated while adding: not needed,
	// since Add slices the arena after appending; older slices keep the old backing array,
	// which stays valid until the batch is reused.
	if cap(b.arena) > 4<<20 {
		b.arena = nil
	}
	for i := range b.Units {
		b.Units[i] = media.Unit{}
	}
	b.Units = b.Units[:0]
	b.arena = b.arena[:0]
	batchPool.Put(b)
}
