package stream

import (
	"sync"

	"github.com/liverec/liverec/internal/bufpool"
	"github.com/liverec/liverec/internal/media"
)

// Batch is a group of units handed from ingest to the recorder in one step: ingest reads a
// connection in batches (perf-notes: wake-ups dominate), and handing them on in one channel
// send keeps the recorder's wake-ups equally few. A Batch owns copies of the unit data, so
// ingest may reuse its buffers at once.
//
// The copies live in chunks from the shared buffer pool rather than in one growing slice:
// a grown slice leaves its outgrown arrays to the collector and would keep its largest size
// in the batch pool, where a second of a 2 Mbit/s stream rounds up to 512 KiB; chunks hold
// the data rounded up to one chunk, and go back to the pool when the recorder is done.
type Batch struct {
	Units  []media.Unit
	chunks []*bufpool.Buf
}

// chunkSize is a batch chunk's size; a unit larger than that (a big keyframe) gets a chunk
// of its own size class.
const chunkSize = 64 << 10

var batchPool = sync.Pool{New: func() any { return new(Batch) }}

// NewBatch returns an empty batch from the pool.
func NewBatch() *Batch { return batchPool.Get().(*Batch) }

// Add appends a copy of u.
func (b *Batch) Add(u *media.Unit) {
	c := *u
	c.Data = b.copyData(u.Data)
	b.Units = append(b.Units, c)
}

// copyData copies p into the current chunk, or a new one when it does not fit.
func (b *Batch) copyData(p []byte) []byte {
	var cur *bufpool.Buf
	if n := len(b.chunks); n > 0 {
		cur = b.chunks[n-1]
	}
	if cur == nil || cap(cur.B)-len(cur.B) < len(p) {
		cur = bufpool.Get(max(chunkSize, len(p)))
		b.chunks = append(b.chunks, cur)
	}
	start := len(cur.B)
	cur.B = append(cur.B, p...)
	return cur.B[start:len(cur.B):len(cur.B)]
}

// Release returns the batch and its chunks to the pools; its units must not be used
// afterwards.
func (b *Batch) Release() {
	for i := range b.Units {
		b.Units[i] = media.Unit{}
	}
	b.Units = b.Units[:0]
	for i, c := range b.chunks {
		bufpool.Put(c)
		b.chunks[i] = nil
	}
	b.chunks = b.chunks[:0]
	batchPool.Put(b)
}
