package aliyun

import (
	"net/http"
	"testing"

	"github.com/liverec/liverec/internal/recording"
)

// TestRealTimeRecordCommandSaysWhy: a command no recording takes keeps the cloud's code,
// InvalidStream.NotFound, and its message tells a stream that is not publishing from one that
// is, but whose record config is not manual (naming its OnDemand and mode), and from a manual
// one whose recording takes no command. The fake has no recorder: every command finds none.
func TestRealTimeRecordCommandSaysWhy(t *testing.T) {
	t.Parallel()
	e, f := newCatalogEnv(t)
	for _, c := range []struct{ app, onDemand string }{{"auto", "0"}, {"http", "1"}, {"param", "2"}, {"manual", "7"}} {
		e.do(call(keyP1, "AddLiveAppRecordConfig", "DomainName", "test.com", "AppName", c.app,
			"OssEndpoint", "oss-cn-shanghai.aliyuncs.com", "OssBucket", "b", "RecordFormat.1.Format", "flv",
			"OnDemand", c.onDemand)).ok(t)
	}
	command := func(app string) *req {
		return call(keyP1, "RealTimeRecordCommand", "DomainName", "test.com", "AppName", app, "StreamName", "cam",
			"Command", "start")
	}

	e.do(command("auto")).fails(t, http.StatusNotFound, "InvalidStream.NotFound",
		"Stream does not exist: test.com/auto/cam is not being published")

	f.got(func() {
		for _, app := range []string{"auto", "http", "param", "manual"} {
			f.live = append(f.live, liveStream(app, "cam", t0))
		}
	})
	for _, tc := range []struct {
		app, onDemand string
		mode          recording.Mode
	}{
		{"auto", "0", recording.ModeAuto},
		{"http", "1", recording.ModeOnDemandHTTP},
		{"param", "2", recording.ModeOnDemandParam},
	} {
		e.do(command(tc.app)).fails(t, http.StatusNotFound, "InvalidStream.NotFound",
			"The stream test.com/"+tc.app+"/cam is live but its record config is not manual (OnDemand="+tc.onDemand+
				", mode "+string(tc.mode)+")",
			"RealTimeRecordCommand applies to streams of manual record configs (OnDemand=7)")
	}
	e.do(command("manual")).fails(t, http.StatusNotFound, "InvalidStream.NotFound",
		"The stream test.com/manual/cam is live but its recording takes no command",
		"before its record config was added or made manual (OnDemand=7)")
}
