package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/testutil"
)

// clusterOpts are what the cluster tests vary in the nodes' configuration.
type clusterOpts struct {
	// LeaseTTL and Heartbeat are cluster.lease_ttl and cluster.heartbeat.
	LeaseTTL, Heartbeat string
	// Window is every format's merge_window_s.
	Window int
	// SharedSpool, when set, is a spool folder every node shares (cluster.shared_spool).
	SharedSpool string
}

// clusterSetup starts one S3 server and one PostgreSQL database for the nodes of a test and
// writes their configuration: app live of 127.0.0.1 recorded in FLV, MP4 and HLS (2 s slices,
// no cycles) into bucket rec of that server.
func clusterSetup(t *testing.T, o clusterOpts) (s3 *testutil.S3Server, dsn, config, bin string) {
	t.Helper()
	s3 = testutil.StartS3(t)
	require.NoError(t, os.MkdirAll(filepath.Join(s3.Dir, "rec"), 0o755))
	var spool, shared string
	if o.SharedSpool != "" {
		spool, shared = "\n  spool: "+o.SharedSpool, "\n  shared_spool: true"
	}
	yaml := fmt.Sprintf(`storage:%s
  endpoints:
    - name: store1
      type: s3
      url: %s
      access_key: %s
      secret_key: %s
      path_style: true
recording:
  store_retry_min: 100ms
  store_retry_max: 1s
cluster:
  lease_ttl: %s
  heartbeat: %s
rules:
  - domain: 127.0.0.1
    app: live
    stream: "*"
    mode: auto
    formats:
      - {format: flv, cycle_s: 0, merge_window_s: %[7]d}
      - {format: mp4, cycle_s: 0, merge_window_s: %[7]d}
      - {format: hls, cycle_s: 0, slice_s: 2, merge_window_s: %[7]d}
    storage: {endpoint: store1, bucket: rec}
`, spool, s3.URL, s3.AccessKey, s3.SecretKey, o.LeaseTTL, o.Heartbeat+shared, o.Window)
	config = filepath.Join(t.TempDir(), "liverec.yaml")
	require.NoError(t, os.WriteFile(config, []byte(yaml), 0o644))
	return s3, testutil.Postgres(t), config, buildBinary(t)
}

// nodeEnv is the environment of a node on database dsn: its own data dir and ports, the
// cluster's master key and the tests' access key.
func nodeEnv(t *testing.T, dsn string) (env []string, rtmpAddr, httpAddr string) {
	t.Helper()
	rtmpAddr, httpAddr = freePort(t), freePort(t)
	return []string{"LIVEREC_DATA=" + filepath.Join(t.TempDir(), "data"), "LIVEREC_RTMP=" + rtmpAddr,
		"LIVEREC_HTTP=" + httpAddr, "LIVEREC_DB=" + dsn, "LIVEREC_MASTER_KEY=" + strings.Repeat("6c", 32),
		"LIVEREC_ACCESS_KEY_ID=LRCRASHTESTKEY0000000000",
		"LIVEREC_ACCESS_KEY_SECRET=crashtestsecretcrashtestsecret"}, rtmpAddr, httpAddr
}

// startNode runs a node of a cluster on the PostgreSQL database dsn, with its own data dir.
func startNode(t *testing.T, bin, dsn, config string) (p *proc, rtmpAddr string) {
	t.Helper()
	env, rtmpAddr, httpAddr := nodeEnv(t, dsn)
	return startProc(t, bin, httpAddr, env, "--config", config), rtmpAddr
}

// publishAll starts n ffmpeg publishers of src (in real time) to rtmp://rtmpAddr/live/PREFIXi;
// they are killed when the test ends.
func publishAll(t *testing.T, src, rtmpAddr, prefix string, n int) []*exec.Cmd {
	t.Helper()
	pubs := make([]*exec.Cmd, 0, n)
	for i := range n {
		pub := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-re", "-i", src, "-c", "copy",
			"-f", "flv", "rtmp://"+rtmpAddr+"/live/"+prefix+strconv.Itoa(i))
		require.NoError(t, pub.Start())
		pubs = append(pubs, pub)
	}
	t.Cleanup(func() { stopAll(pubs) })
	return pubs
}

// stopAll kills publishers and waits for them (again is harmless).
func stopAll(pubs []*exec.Cmd) {
	for _, p := range pubs {
		_ = p.Process.Kill()
		_ = p.Wait()
	}
}
