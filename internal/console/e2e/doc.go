// Package e2e tests the web console end to end: a real liverec runs in the test process, a
// headless Chromium (Debian's chromium, driven over the DevTools protocol by chromedp) uses
// the console like a person would, and ffmpeg publishes the live streams it shows.
//
// Everything is in _test.go files; this file only gives the package a home and a comment.
// The harness (harness_test.go, browser_test.go) fails a test when the page sends a request
// off the loopback address or writes an error to the console, and writes a screenshot of
// every page it is asked to into the test's temp dir.
package e2e
