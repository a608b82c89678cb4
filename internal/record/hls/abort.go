package hls

// Abort closes the open slice as it is on disk, without completing it or the playlist: after a
// write error the spool keeps what was written, for recovery (RecoverSlice, ReadIndex).
func (w *Writer) Abort() {
	if w.closed {
		return
	}
	w.closed = true
	if w.file != nil {
		_ = w.file.Close()
		w.file = nil
	}
}
