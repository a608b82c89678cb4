package hls

import (
	"path/filepath"
	"strconv"
	"time"
)

// Playlist renders a media playlist (RFC 8216 §4.3): VERSION 3 for decimal EXTINF (§7),
// TARGETDURATION the ceiling of the longest rendered EXTINF (§4.3.3.1 only asks for at least
// the rounded value), MEDIA-SEQUENCE the first slice's Seq, PLAYLIST-TYPE VOD once ended and
// EVENT before (§4.3.3.5: slices are only appended), a DISCONTINUITY tag before each slice that
// follows a pause (§4.3.2.3) and ENDLIST once ended (§4.3.3.4). uris[i] is what the playlist
// references for slices[i]; a missing one falls back to the slice file's base name.
func Playlist(slices []Slice, uris []string, ended bool) []byte {
	return appendPlaylist(nil, slices, uris, ended)
}

func appendPlaylist(b []byte, slices []Slice, uris []string, ended bool) []byte {
	target := int64(1) // a zero target duration is invalid for players
	seq := 0
	for i, s := range slices {
		if i == 0 {
			seq = s.Seq
		}
		target = max(target, (millis(s.Duration)+999)/1000)
	}
	b = append(b, "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:"...)
	b = strconv.AppendInt(b, target, 10)
	b = append(b, "\n#EXT-X-MEDIA-SEQUENCE:"...)
	b = strconv.AppendInt(b, int64(seq), 10)
	if ended {
		b = append(b, "\n#EXT-X-PLAYLIST-TYPE:VOD\n"...)
	} else {
		b = append(b, "\n#EXT-X-PLAYLIST-TYPE:EVENT\n"...)
	}
	for i, s := range slices {
		if s.Discontinuity {
			b = append(b, "#EXT-X-DISCONTINUITY\n"...)
		}
		ms := millis(s.Duration)
		b = append(b, "#EXTINF:"...)
		b = strconv.AppendInt(b, ms/1000, 10)
		b = append(b, '.', byte('0'+ms/100%10), byte('0'+ms/10%10), byte('0'+ms%10), ',', '\n')
		if i < len(uris) {
			b = append(b, uris[i]...)
		} else {
			b = append(b, filepath.Base(s.Path)...)
		}
		b = append(b, '\n')
	}
	if ended {
		b = append(b, "#EXT-X-ENDLIST\n"...)
	}
	return b
}

// millis rounds a non-negative duration to whole milliseconds, the precision of EXTINF here.
func millis(d time.Duration) int64 {
	if d < 0 {
		return 0
	}
	ms := int64(d / time.Millisecond) // divide first: adding half a millisecond could overflow
	if d%time.Millisecond >= time.Millisecond/2 {
		ms++
	}
	return ms
}
