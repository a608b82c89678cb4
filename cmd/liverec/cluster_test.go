package main

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/testutil"
)

// TestTwoNodesShareOnePostgres: two nodes on one PostgreSQL and one S3 server. Streams
// published to either are recorded cleanly into the shared bucket; a stream live on one node is
// refused on the other; the API of either node lists every recording and both nodes.
func TestTwoNodesShareOnePostgres(t *testing.T) {
	t.Parallel() // real-time publishers: the cluster tests wait side by side
	const streams = 20
	fixtures := filepath.Join(os.TempDir(), "liverec-test-fixtures")
	src := testutil.RefStream(t, fixtures, testutil.RefOptions{Seconds: 6, Width: 640, Height: 360, FPS: 25,
		Bitrate: "500k"})
	s3, dsn, config, bin := clusterSetup(t, clusterOpts{LeaseTTL: "3s", Heartbeat: "500ms"})
	a, rtmpA := startNode(t, bin, dsn, config)
	b, rtmpB := startNode(t, bin, dsn, config)

	var nodes struct {
		Nodes []struct {
			ID string `json:"id"`
		} `json:"nodes"`
	}
	apiGet(t, b.http, "/api/v1/nodes", &nodes)
	require.Len(t, nodes.Nodes, 2, "both nodes are listed")
	// Each node shows its peers in /metrics.
	a.waitMetrics(t, 10*time.Second, `liverec_cluster_node{http_addr="`+b.http+`"`, `liverec_cluster_node{http_addr="`+a.http+`"`)

	// A long publisher holds s0 on node A while node B is asked for it.
	hold := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-re", "-stream_loop", "-1", "-i", src,
		"-c", "copy", "-f", "flv", "rtmp://"+rtmpA+"/live/s0")
	require.NoError(t, hold.Start())
	t.Cleanup(func() { _ = hold.Process.Kill() })
	require.Eventually(t, func() bool { return a.metric(`liverec_recorded_units_total{kind="video"}`) > 0 },
		20*time.Second, 50*time.Millisecond, "node A never recorded s0")
	dup, err := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-re", "-i", src, "-c", "copy",
		"-f", "flv", "rtmp://"+rtmpB+"/live/s0").CombinedOutput()
	require.Error(t, err, "a duplicate publisher on the other node is refused: %s", dup)
	require.Equal(t, float64(0), b.metric(`liverec_recorded_units_total{kind="video"}`), "node B recorded nothing of s0")

	// B's API shows the stream live on A, and kicks it there.
	var live struct {
		Streams []struct {
			Stream string `json:"stream"`
			Node   string `json:"node"`
		} `json:"streams"`
	}
	apiGet(t, b.http, "/api/v1/streams", &live)
	require.Len(t, live.Streams, 1, "the live list of either node shows every node's streams")
	require.Equal(t, "s0", live.Streams[0].Stream)
	var nodeA struct {
		Nodes []struct {
			ID       string `json:"id"`
			HTTPAddr string `json:"http_addr"`
		} `json:"nodes"`
	}
	apiGet(t, a.http, "/api/v1/nodes", &nodeA)
	for _, n := range nodeA.Nodes {
		if n.HTTPAddr == a.http {
			require.Equal(t, n.ID, live.Streams[0].Node, "with the node it publishes on")
		}
	}
	kick, _ := http.NewRequest(http.MethodPost, "http://"+b.http+"/api/v1/streams/127.0.0.1/live/s0/kick", nil)
	kick.SetBasicAuth("LRCRASHTESTKEY0000000000", "crashtestsecretcrashtestsecret")
	resp, err := http.DefaultClient.Do(kick)
	require.NoError(t, err)
	resp.Body.Close()
	require.Less(t, resp.StatusCode, 300, "a kick through node B")
	kicked := make(chan error, 1)
	go func() { kicked <- hold.Wait() }()
	select {
	case werr := <-kicked:
		require.Error(t, werr, "the publisher on node A was disconnected")
	case <-time.After(15 * time.Second):
		t.Fatal("the publisher on node A was not kicked through node B")
	}
	peer, _ := http.NewRequest(http.MethodGet, "http://"+a.http+"/internal/v1/streams", nil)
	peer.Header.Set("Authorization", "Bearer not-the-key")
	resp, err = http.DefaultClient.Do(peer)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "the nodes' own API needs the cluster key")

	// s1..s20, spread over both nodes, at once.
	var wg sync.WaitGroup
	errs := make(chan error, streams)
	for i := 1; i <= streams; i++ {
		addr := rtmpA
		if i%2 == 0 {
			addr = rtmpB
		}
		wg.Go(func() {
			out, err := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-re", "-i", src, "-c", "copy",
				"-f", "flv", "rtmp://"+addr+"/live/s"+strconv.Itoa(i)).CombinedOutput()
			if err != nil {
				errs <- fmt.Errorf("publisher s%d: %w: %s", i, err, out)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}

	type recordingList struct {
		Recordings []struct {
			ID     string `json:"id"`
			Stream string `json:"stream"`
			State  string `json:"state"`
			Node   string `json:"node"`
		} `json:"items"`
	}
	over := func(p *proc) (map[string]string, map[string]bool) {
		var l recordingList
		apiGet(t, p.http, "/api/v1/recordings?app=live&limit=100", &l)
		states, nodes := map[string]string{}, map[string]bool{}
		for _, r := range l.Recordings {
			if r.Stream != "s0" {
				states[r.Stream] = r.State
				nodes[r.Node] = true
			}
		}
		return states, nodes
	}
	require.Eventually(t, func() bool {
		states, _ := over(a)
		if len(states) != streams {
			return false
		}
		for _, st := range states {
			if st != "over" {
				return false
			}
		}
		return true
	}, 60*time.Second, 200*time.Millisecond, "not every recording ended")
	statesA, nodesA := over(a)
	statesB, nodesB := over(b)
	require.Equal(t, statesA, statesB, "either node's API lists every recording")
	require.Len(t, nodesA, 2, "the recordings were made by both nodes")
	require.Equal(t, nodesA, nodesB)

	// Every file of the 20 recordings is in the one bucket, and ffprobe-clean.
	var files []string
	require.NoError(t, filepath.Walk(filepath.Join(s3.Dir, "rec"), func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() && strings.Contains(p, "/live/") {
			files = append(files, p)
		}
		return err
	}))
	count := map[string]int{}
	for _, f := range files {
		ext := filepath.Ext(f)
		count[ext]++
		if ext == ".ts" {
			continue // checked through its playlist
		}
		pr := testutil.Probe(t, f)
		require.Empty(t, pr.Stderr, "ffprobe %s", f)
		require.NotNil(t, pr.Video(), f)
	}
	for _, ext := range []string{".flv", ".mp4", ".m3u8"} {
		require.GreaterOrEqual(t, count[ext], streams, "%s files: %v", ext, count)
	}
}
