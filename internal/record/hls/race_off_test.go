//go:build !race

package hls

const raceDetector = false
