// Command aliyun verifies liverec's Alibaba Cloud callbacks (dialect "aliyun"): 204 for a
// delivery whose ALI-LIVE-SIGNATURE verifies and whose ALI-LIVE-TIMESTAMP is within 5 minutes
// of now, else 401. The signature covers the host, the timestamp and the key, not the body.
//
//	go run ./examples/callbacks/aliyun -listen 127.0.0.1:9000 -secret "$CALLBACK_SECRET"
package main

import (
	"crypto/md5"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

const tolerance = 5 * time.Minute

func main() {
	listen := flag.String("listen", "127.0.0.1:9000", "address to listen on")
	secret := flag.String("secret", os.Getenv("CALLBACK_SECRET"), "the configuration's key (default $CALLBACK_SECRET)")
	flag.Parse()
	if *secret == "" {
		log.Fatal("no secret: pass -secret or set CALLBACK_SECRET")
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("listening on http://%s", ln.Addr())
	log.Fatal(http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		what, err := verify(*secret, w, r)
		if err != nil {
			fmt.Println("rejected:", err)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		fmt.Println("verified", what)
		w.WriteHeader(http.StatusNoContent)
	})))
}

// verify checks one delivery and returns "EVENT DOMAIN/APP/STREAM" from its body.
func verify(key string, w http.ResponseWriter, r *http.Request) (string, error) {
	ts, sig := r.Header.Get("Ali-Live-Timestamp"), r.Header.Get("Ali-Live-Signature")
	sec, err := strconv.ParseInt(ts, 10, 64)
	if sig == "" || err != nil {
		return "", errors.New("missing ali-live-timestamp or ali-live-signature")
	}
	if age := time.Since(time.Unix(sec, 0)); age > tolerance || age < -tolerance {
		return "", fmt.Errorf("ali-live-timestamp %s is more than %s away from now", ts, tolerance)
	}
	// The host is the callback URL's as configured (with its :port if it has one); behind a
	// proxy that rewrites Host, put the configured host here instead of r.Host.
	sum := md5.Sum([]byte(r.Host + "|" + ts + "|" + key))
	want := hex.EncodeToString(sum[:])
	if subtle.ConstantTimeCompare([]byte(strings.ToLower(sig)), []byte(want)) != 1 {
		return "", errors.New("ali-live-signature does not match")
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		return "", fmt.Errorf("read body: %w", err)
	}
	var cb struct{ Domain, App, Stream, Event string }
	if err := json.Unmarshal(body, &cb); err != nil {
		return "", fmt.Errorf("body: %w", err)
	}
	if cb.Event == "" { // the file callback has no event field
		cb.Event = "file_completed"
	}
	return cb.Event + " " + cb.Domain + "/" + cb.App + "/" + cb.Stream, nil
}
