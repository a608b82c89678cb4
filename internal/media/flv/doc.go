// Package flv reads the FLV container and the FLV-shaped bodies of RTMP audio and video
// messages: tag headers (legacy and Enhanced RTMP), decoder configuration records, onMetaData,
// and whole files through Reader. RTMP ingest, the recorder's FLV writer and its crash
// recovery, the load generator and tests all parse through it, so they agree on what is
// malformed. It does no I/O beyond the io.Reader it is given, and imports nothing of the
// recorder.
package flv
