package diskpolicy

import (
	"fmt"
	"path/filepath"
	"syscall"
)

// Volume is one filesystem the monitor watches.
type Volume struct {
	// Name labels its metric and its /readyz detail: "data", "spool" or "endpoint:NAME".
	Name string
	// Path is a directory on it, the one measured.
	Path string
	// Spool marks the volume of the data dir or the spool: below the low mark it refuses every
	// new recording, whatever its rule stores to, so that open files can still be written.
	Spool bool
	// Endpoints are the local endpoints whose roots lie on it.
	Endpoints []string
}

// Space is a volume's size and what an unprivileged writer may still use of it.
type Space struct {
	Free, Total int64
}

// Statfs measures the filesystem holding path.
func Statfs(path string) (Space, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		return Space{}, fmt.Errorf("statfs %s: %w", path, err)
	}
	return Space{Free: int64(st.Bavail) * int64(st.Bsize), Total: int64(st.Blocks) * int64(st.Bsize)}, nil
}

// Volumes groups the data dir, the spool and the local endpoints' roots (by endpoint name) by
// filesystem: paths on one device are one volume, named after the first of data, spool and
// the endpoints (in the order given) found on it. Every path must exist.
func Volumes(dataDir, spool string, roots []EndpointRoot) ([]Volume, error) {
	var vols []Volume
	byDev := map[uint64]int{}
	add := func(name, path string, isSpool bool, endpoint string) error {
		var st syscall.Stat_t
		if err := syscall.Stat(path, &st); err != nil {
			return fmt.Errorf("disk policy: stat %s: %w", path, err)
		}
		dev := uint64(st.Dev) //nolint:unconvert // its type differs between systems
		i, ok := byDev[dev]
		if !ok {
			abs, err := filepath.Abs(path)
			if err != nil {
				return fmt.Errorf("disk policy: %s: %w", path, err)
			}
			i = len(vols)
			byDev[dev] = i
			vols = append(vols, Volume{Name: name, Path: abs})
		}
		v := &vols[i]
		v.Spool = v.Spool || isSpool
		if endpoint != "" {
			v.Endpoints = append(v.Endpoints, endpoint)
		}
		return nil
	}
	if err := add("data", dataDir, true, ""); err != nil {
		return nil, err
	}
	if err := add("spool", spool, true, ""); err != nil {
		return nil, err
	}
	for _, r := range roots {
		if err := add("endpoint:"+r.Endpoint, r.Root, false, r.Endpoint); err != nil {
			return nil, err
		}
	}
	return vols, nil
}

// EndpointRoot is a local endpoint's directory.
type EndpointRoot struct {
	Endpoint, Root string
}
