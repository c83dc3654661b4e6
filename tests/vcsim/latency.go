package main

// A network between the client and the vCenter: every request (SOAP and vAPI,
// not the test API) waits a set time before it is served, as a WAN round trip
// of 10-50 ms would make it. Requests wait side by side, as they would on a
// real link, so retrievals a client runs concurrently overlap their waits.

import (
	"net/http"
	"strconv"
	"sync"
	"time"
)

var (
	latencyMu sync.Mutex
	latency   time.Duration
)

// roundTrip is the current per-request latency.
func roundTrip() time.Duration {
	latencyMu.Lock()
	defer latencyMu.Unlock()
	return latency
}

func setLatency(ms int) {
	latencyMu.Lock()
	latency = time.Duration(ms) * time.Millisecond
	latencyMu.Unlock()
}

// serveLatency handles /_vcsim/latency:
//
//	POST ?ms=N  every later request waits N milliseconds before it is served (0: none)
func serveLatency(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	ms, err := strconv.Atoi(r.URL.Query().Get("ms"))
	if err != nil || ms < 0 {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	setLatency(ms)
	w.WriteHeader(http.StatusNoContent)
}

func init() {
	testAPI["/_vcsim/latency"] = serveLatency
}
