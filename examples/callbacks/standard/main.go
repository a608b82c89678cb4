// Command standard verifies liverec's Standard Webhooks callbacks (dialect "standard"): 204 for
// a delivery whose signature verifies and whose timestamp is within 5 minutes of now, else 401.
//
//	go run ./examples/callbacks/standard -listen 127.0.0.1:9000 -secret "$CALLBACK_SECRET"
package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
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
	// A whsec_ secret is the base64 of the HMAC key; any other key is used as its own bytes.
	key := []byte(*secret)
	if b64, ok := strings.CutPrefix(*secret, "whsec_"); ok {
		var err error
		if key, err = base64.StdEncoding.DecodeString(b64); err != nil {
			log.Fatalf("the secret: whsec_ must be followed by standard base64: %v", err)
		}
	}
	if len(key) == 0 {
		log.Fatal("no secret: pass -secret or set CALLBACK_SECRET (whsec_ + base64, or the key as set)")
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("listening on http://%s", ln.Addr())
	log.Fatal(http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		what, err := verify(key, w, r)
		if err != nil {
			fmt.Println("rejected:", err)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		fmt.Println("verified", what)
		w.WriteHeader(http.StatusNoContent)
	})))
}

// verify checks one delivery and returns "TYPE DOMAIN/APP/STREAM" from its body.
func verify(key []byte, w http.ResponseWriter, r *http.Request) (string, error) {
	id, ts := r.Header.Get("Webhook-Id"), r.Header.Get("Webhook-Timestamp")
	sec, err := strconv.ParseInt(ts, 10, 64)
	if id == "" || err != nil {
		return "", errors.New("missing webhook-id or webhook-timestamp")
	}
	if age := time.Since(time.Unix(sec, 0)); age > tolerance || age < -tolerance {
		return "", fmt.Errorf("webhook-timestamp %s is more than %s away from now", ts, tolerance)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		return "", fmt.Errorf("read body: %w", err)
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "."))
	mac.Write(body)
	// The header lists signatures separated by spaces, each "v1," + base64; one must match.
	for _, sig := range strings.Fields(r.Header.Get("Webhook-Signature")) {
		got, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(sig, "v1,"))
		if strings.HasPrefix(sig, "v1,") && err == nil && hmac.Equal(got, mac.Sum(nil)) {
			var env struct {
				Type string
				Data struct{ Domain, App, Stream string }
			}
			if err := json.Unmarshal(body, &env); err != nil {
				return "", fmt.Errorf("body: %w", err)
			}
			return env.Type + " " + env.Data.Domain + "/" + env.Data.App + "/" + env.Data.Stream, nil
		}
	}
	return "", errors.New("no valid v1 signature in webhook-signature")
}
