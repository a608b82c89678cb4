//go:build race

package hls

// raceDetector: sync.Pool drops a quarter of Puts under the race detector.
const raceDetector = true
