package main

// Sessions as a vCenter has them, and a call log tests can read per session.
//
// vcsim 0.24.2 serves RetrievePropertiesEx without any session, and a call on
// an object of a session that has ended fails with ManagedObjectNotFound. A
// vCenter answers every call but the few that open a session with
// NotAuthenticated when the caller's session is not alive: the launcher does
// the same before a call reaches the simulator. A test can also make the
// caller's session end just before a chosen call (/_vcsim/expire), as when an
// administrator terminates it or it times out between two pages.

import (
	"net/http"
	"strconv"
	"sync"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/types"
)

const (
	soapCookie = "vmware_soap_session"
	vapiHeader = "vmware-api-session-id"
)

// sessionlessMethods are the SOAP methods a vCenter serves without a session.
var sessionlessMethods = map[string]bool{
	"RetrieveServiceContent":      true,
	"Login":                       true,
	"LoginByToken":                true,
	"LoginExtensionByCertificate": true,
	"CloneSession":                true,
}

// launcherUser is the one login the launcher accepts (set by main).
var launcherUser string

// loggedCall is one entry of the per-session call log.
type loggedCall struct {
	Session string `json:"session"` // "soap-1", "vapi-1", or "" (no session)
	Call    string `json:"call"`
	Status  int    `json:"status"` // the HTTP status answered (0: not yet); a SOAP fault is 500
}

// sessionBook names sessions without revealing their keys (which are
// secrets) and keeps the call log with the session of each call.
type sessionBook struct {
	mu         sync.Mutex
	labels     map[string]string // session key or vAPI session id -> label
	soap, vapi int
	log        []loggedCall
}

var sessions = &sessionBook{labels: map[string]string{}}

// label names a session key ("soap-N" or "vapi-N" in order of first sight).
func (b *sessionBook) label(key, kind string) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.labelLocked(key, kind)
}

func (b *sessionBook) labelLocked(key, kind string) string {
	if key == "" {
		return ""
	}
	if l, ok := b.labels[key]; ok {
		return l
	}
	n := 0
	if kind == "soap" {
		b.soap++
		n = b.soap
	} else {
		b.vapi++
		n = b.vapi
	}
	l := kind + "-" + strconv.Itoa(n)
	b.labels[key] = l
	return l
}

// requestSession is the SOAP session key or vAPI session id a request carries.
func requestSession(r *http.Request) (key, kind string) {
	if c, err := r.Cookie(soapCookie); err == nil && r.URL.Path == "/sdk" {
		return c.Value, "soap"
	}
	if id := r.Header.Get(vapiHeader); id != "" {
		return id, "vapi"
	}
	if c, err := r.Cookie(vapiHeader); err == nil {
		return c.Value, "vapi"
	}
	return "", ""
}

// record appends a call to the log under the session the request carries and
// returns its index.
func (b *sessionBook) record(call string, r *http.Request) int {
	key, kind := requestSession(r)
	b.mu.Lock()
	defer b.mu.Unlock()
	b.log = append(b.log, loggedCall{Session: b.labelLocked(key, kind), Call: call})
	return len(b.log) - 1
}

// answered notes how a logged call was answered, and files a login under the
// session it opened (a client logging in again may still send the key of the
// session it lost).
func (b *sessionBook) answered(index, status int, opened, kind string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.log[index].Status = status
	if opened != "" {
		b.log[index].Session = b.labelLocked(opened, kind)
	}
}

func (b *sessionBook) entries() []loggedCall {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]loggedCall(nil), b.log...)
}

// launcherContext is a simulator context for the launcher's own calls into
// the SessionManager; its session key is no client's.
func launcherContext() *simulator.Context {
	return &simulator.Context{
		Map:     simulator.Map,
		Session: &simulator.Session{UserSession: types.UserSession{Key: "vcsim-launcher"}},
	}
}

// sessionAlive tells whether a SOAP session key belongs to a live session.
func sessionAlive(key string) bool {
	if key == "" {
		return false
	}
	res := simulator.Map.SessionManager().SessionIsActive(
		launcherContext(), &types.SessionIsActive{SessionID: key, UserName: launcherUser})
	body, ok := res.(*methods.SessionIsActiveBody)
	return ok && body.Res != nil && body.Res.Returnval
}

// endSession ends a SOAP session as TerminateSession does.
func endSession(key string) {
	if key == "" {
		return
	}
	simulator.Map.SessionManager().TerminateSession(
		launcherContext(), &types.TerminateSession{SessionId: []string{key}})
}

// notAuthenticated is the fault a vCenter answers a call without a live session with.
func notAuthenticated(this types.ManagedObjectReference) *types.NotAuthenticated {
	return &types.NotAuthenticated{NoPermission: types.NoPermission{Object: this, PrivilegeId: "System.View"}}
}

// expiry ends the caller's session just before a call of method, after skip
// other calls of it have gone through.
type expiry struct {
	method string
	skip   int
}

var (
	expiriesMu sync.Mutex
	expiries   []expiry
)

// expireBeforeCall ends the session of a call of method when an expiry says so.
// Each expiry fires once; only calls in a live session count, so expiries set
// one after the other end one session after the other.
func expireBeforeCall(method string, r *http.Request) {
	c, err := r.Cookie(soapCookie)
	if err != nil || !sessionAlive(c.Value) {
		return
	}
	expiriesMu.Lock()
	fire := false
	for i := range expiries {
		if expiries[i].method != method {
			continue
		}
		if expiries[i].skip > 0 {
			expiries[i].skip--
		} else {
			expiries = append(expiries[:i], expiries[i+1:]...)
			fire = true
		}
		break
	}
	expiriesMu.Unlock()
	if fire {
		endSession(c.Value)
	}
}

// serveExpire handles /_vcsim/expire:
//
//	POST   ?method=M[&after=N]  the session of the (N+1)th next call of M in a live
//	                            session ends just before that call is served (once;
//	                            several expiries end several sessions in turn)
//	DELETE                      forget every expiry not yet fired
func serveExpire(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	switch r.Method {
	case http.MethodPost:
		after, err := optionalCount(q.Get("after"))
		if q.Get("method") == "" || err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		expiriesMu.Lock()
		expiries = append(expiries, expiry{method: q.Get("method"), skip: after})
		expiriesMu.Unlock()
	case http.MethodDelete:
		expiriesMu.Lock()
		expiries = nil
		expiriesMu.Unlock()
	default:
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// optionalCount parses a non-negative count; empty means 0.
func optionalCount(text string) (int, error) {
	if text == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(text)
	if err == nil && n < 0 {
		err = strconv.ErrRange
	}
	return n, err
}

func init() {
	testAPI["/_vcsim/expire"] = serveExpire
}
