// Command huawei verifies liverec's Huawei Cloud callbacks (dialect "huawei"): 204 for a
// delivery whose auth_sign verifies and whose auth_timestamp (the signature's expiry) has not
// passed by more than 5 minutes, else 401. Both sign types are checked: HMACSHA256 (64 hex
// digits) and MD5 (32).
//
//	go run ./examples/callbacks/huawei -listen 127.0.0.1:9000 -secret "$CALLBACK_SECRET"
package main

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
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
	"time"
)

const skew = 5 * time.Minute

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

// verify checks one delivery and returns "EVENT_TYPE PUBLISH_DOMAIN/APP/STREAM" from its body.
func verify(key string, w http.ResponseWriter, r *http.Request) (string, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		return "", fmt.Errorf("read body: %w", err)
	}
	var cb struct {
		EventType     string `json:"event_type"`
		PublishDomain string `json:"publish_domain"`
		App           string `json:"app"`
		Stream        string `json:"stream"`
		DownloadURL   string `json:"download_url"`
		PlayURL       string `json:"play_url"`
		AuthSign      string `json:"auth_sign"`
		AuthTimestamp string `json:"auth_timestamp"`
	}
	if err = json.Unmarshal(body, &cb); err != nil {
		return "", fmt.Errorf("body: %w", err)
	}
	expiry, err := strconv.ParseInt(cb.AuthTimestamp, 10, 64)
	if cb.AuthSign == "" || err != nil {
		return "", errors.New("missing auth_sign or auth_timestamp")
	}
	if time.Since(time.Unix(expiry, 0)) > skew {
		return "", fmt.Errorf("signature expired at auth_timestamp %s", cb.AuthTimestamp)
	}
	var want []byte
	if len(cb.AuthSign) == 2*md5.Size { // MD5: md5(key + auth_timestamp), the body is not signed
		sum := md5.Sum([]byte(key + cb.AuthTimestamp))
		want = sum[:]
	} else { // HMACSHA256 over the fields in this order; absent ones count as ""
		mac := hmac.New(sha256.New, []byte(key))
		mac.Write([]byte(cb.AuthTimestamp + cb.EventType + cb.PublishDomain + cb.App + cb.Stream +
			cb.DownloadURL + cb.PlayURL))
		want = mac.Sum(nil)
	}
	got, err := hex.DecodeString(cb.AuthSign)
	if err != nil || !hmac.Equal(got, want) {
		return "", errors.New("auth_sign does not match")
	}
	return cb.EventType + " " + cb.PublishDomain + "/" + cb.App + "/" + cb.Stream, nil
}
