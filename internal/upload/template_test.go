package upload

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestRenderName(t *testing.T) {
	start := time.Date(2026, 11, 21, 9, 5, 7, 0, time.UTC)
	end := start.Add(10 * time.Minute)
	v := NameVars{Domain: "a.com", App: "live", Stream: "cam1", Format: "flv", RecordType: "CONTINUOUS_RECORD",
		Sequence: 3, Start: start, End: end}
	cases := []struct{ tmpl, want string }{
		{"record/{AppName}/{StreamName}/{EscapedStartTime}_{EscapedEndTime}", "record/live/cam1/2026-11-21-09-05-07_2026-11-21-09-15-07"},
		{"{StartTime}|{EndTime}", "2026-11-21-09:05:07|2026-11-21-09:15:07"},
		{"{UnixTimestamp}_{Sequence}", "1795251907_3"},
		{"Record/{publish_domain}/{app}/{record_type}/{record_format}/{stream}_{file_start_time}/{file_start_time}",
			"Record/a.com/live/CONTINUOUS_RECORD/FLV/cam1_2026-11-21-09-05-07/2026-11-21-09-05-07"},
		{"{file_start_time_unix}_{file_end_time_unix}_{ts_sequence_number}", "1795251907_1795252507_3"},
		{"{Domain}/{Unknown}/{", "a.com/{Unknown}/{"},
	}
	for _, c := range cases {
		require.Equal(t, c.want, RenderName(c.tmpl, v), c.tmpl)
	}
	v.End = time.Time{}
	require.Equal(t, "live/cam1/2026-11-21-09-05-07_live", RenderName("{AppName}/{StreamName}/{EscapedStartTime}_{EscapedEndTime}", v))
	v.End = end
	v.Location = time.FixedZone("CST", 8*3600)
	require.Equal(t, "2026-11-21-17:05:07", RenderName("{StartTime}", v))
	// A zone moves the times it renders, not the instants: Unix timestamps stay.
	require.Equal(t, "2026-11-21-17-05-07_2026-11-21-17-15-07/1795251907_1795252507",
		RenderName("{file_start_time}_{EscapedEndTime}/{UnixTimestamp}_{file_end_time_unix}", v))
}
