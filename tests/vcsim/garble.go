package main

// Broken answers: the next response to a chosen SOAP method comes back cut in
// half or with its XML garbled (a well-formed HTTP answer whose body is not a
// well-formed document), as from a proxy or a server that failed mid-answer.

import (
	"bytes"
	"net/http"
	"strconv"
	"sync"
)

var (
	garbleMu sync.Mutex
	garbles  = map[string]string{} // SOAP method -> "truncate" or "garble"
)

// serveGarble handles /_vcsim/garble:
//
//	POST ?method=M&mode=truncate  the next response to M ends halfway through its body
//	POST ?method=M&mode=garble    the next response to M has a mismatched closing tag
func serveGarble(w http.ResponseWriter, r *http.Request) {
	method, mode := r.URL.Query().Get("method"), r.URL.Query().Get("mode")
	if r.Method != http.MethodPost || method == "" || (mode != "truncate" && mode != "garble") {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	garbleMu.Lock()
	garbles[method] = mode
	garbleMu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// takeGarble is the mode set for the next response to method ("" for none), used up.
func takeGarble(method string) string {
	garbleMu.Lock()
	defer garbleMu.Unlock()
	mode := garbles[method]
	delete(garbles, method)
	return mode
}

// bufferedResponse holds a response's status and body until they are mangled.
type bufferedResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedResponse) Header() http.Header         { return b.header }
func (b *bufferedResponse) Write(p []byte) (int, error) { return b.body.Write(p) }
func (b *bufferedResponse) WriteHeader(status int)      { b.status = status }

// serveGarbled serves the request through next and writes its answer mangled by mode.
func serveGarbled(next http.Handler, w http.ResponseWriter, r *http.Request, mode string) {
	buf := &bufferedResponse{header: w.Header(), status: http.StatusOK}
	next.ServeHTTP(buf, r)
	body := buf.body.Bytes()
	if mode == "truncate" {
		body = body[:len(body)/2]
	} else if i := bytes.LastIndex(body, []byte("</")); i >= 0 {
		body = append(append(append([]byte{}, body[:i]...), []byte("</garbled")...), body[i+2:]...)
	}
	w.Header().Del("Content-Encoding")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(buf.status)
	_, _ = w.Write(body)
}

func init() {
	testAPI["/_vcsim/garble"] = serveGarble
}
