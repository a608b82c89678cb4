package app

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"

	"github.com/liverec/liverec/internal/secret"
	"github.com/liverec/liverec/internal/service"
)

// initService opens the master key and builds the service layer, then makes sure an access
// key exists: the one of LIVEREC_ACCESS_KEY_*, or on a data dir without keys a new admin
// key, printed once.
func (a *App) initService(ctx context.Context, out io.Writer) error {
	key, err := secret.LoadMasterKey(a.conf.MasterKey, filepath.Join(a.conf.Data, "master.key"))
	if err != nil {
		return err
	}
	if err = a.checkMasterKey(ctx, key); err != nil {
		return err
	}
	a.peerKey, a.peerClient = derivePeerKey(key), &http.Client{Timeout: peerTimeout}
	lk := sha256.Sum256(append([]byte("liverec download links\n"), key...))
	a.linkKey = lk[:]
	box, err := secret.New(key)
	if err != nil {
		return err
	}
	a.svc = &service.Service{
		Store:           a.store,
		Sealer:          box,
		ClaimsAdminOnly: a.conf.API.ClaimsAdminOnly,
		OnRedeliver:     func() { a.notif.Notify() },
		Commander:       a,
		EndpointExists: func(name string) bool {
			_, ok := a.endpointName(name)
			return ok
		},
		CheckBucket:   a.checkBucket,
		Catalog:       a.store,
		Objects:       objects{a},
		LiveURL:       a.LiveURL,
		ObjectKey:     a.objectKey,
		Live:          a.Live(),
		Nodes:         a,
		OnPlanChanged: a.planChanged,
		ClipStored:    a.clipStored,
		ClipDir:       a.conf.Storage.Spool,
		Events:        a,
	}
	if a.conf.AccessKeyID != "" {
		if err = a.svc.EnsureAccessKey(ctx, a.conf.AccessKeyID, a.conf.AccessKeySecret, a.conf.ProjectID, true); err != nil {
			return fmt.Errorf("access key from the environment: %w", err)
		}
		return nil
	}
	has, err := a.svc.HasAccessKeys(ctx)
	if err != nil {
		return fmt.Errorf("look up access keys: %w", err)
	}
	if has {
		return nil
	}
	admin := service.Principal{Project: a.conf.ProjectID, Admin: true}
	k, sec, err := a.svc.CreateAccessKey(ctx, admin, a.conf.ProjectID, true, "created at first start")
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "liverec: created an admin access key for project %q; it is shown only this once:\n"+
		"  LIVEREC_ACCESS_KEY_ID=%s\n  LIVEREC_ACCESS_KEY_SECRET=%s\n"+
		"Sign in to the console at http://HOST%s/console/ with it (HOST: this machine).\n",
		k.Project, k.ID, sec, portOf(a.conf.HTTP))
	return nil
}

// portOf is ":PORT" of a listen address, "" when it has none or it is 80.
func portOf(addr string) string {
	_, port, err := net.SplitHostPort(addr)
	if err != nil || port == "" || port == "80" {
		return ""
	}
	return ":" + port
}

// checkMasterKey refuses to start a node whose master key is not the one the database's
// secrets were sealed with (every node of a cluster opens the same secrets). The database
// keeps a check value of the first key, never the key.
func (a *App) checkMasterKey(ctx context.Context, key []byte) error {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("liverec master key check\n"))
	check := hex.EncodeToString(mac.Sum(nil))
	stored, err := a.store.MetaEnsure(ctx, "master_key_check", check)
	if err != nil {
		return fmt.Errorf("check the master key: %w", err)
	}
	if !hmac.Equal([]byte(stored), []byte(check)) {
		return errors.New("the master key is not the one this database's secrets are sealed with: " +
			"give every node the same key (LIVEREC_MASTER_KEY, or the same DATA/master.key file)")
	}
	return nil
}
