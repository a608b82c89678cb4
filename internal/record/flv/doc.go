// Package flv writes the recorder's FLV files through a sink.File (Writer) and repairs those a
// crash cut short (Recover). Parsing the format, which ingest and tools share, is in
// internal/media/flv.
package flv
