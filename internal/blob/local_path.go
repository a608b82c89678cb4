package blob

// Path is where bucket/key lives on disk (for serving the local endpoint's signed download
// links); ErrBadKey for names that would escape the root.
func (l *Local) Path(bucket, key string) (string, error) { return l.target(bucket, key) }
