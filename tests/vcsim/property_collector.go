package main

// The PropertyCollector as a vCenter runs it, where vcsim 0.24.2 differs:
//
//   - It pages. RetrievePropertiesEx returns at most options.maxObjects objects
//     and a token; ContinueRetrievePropertiesEx returns the next page for a token
//     and CancelRetrievePropertiesEx discards the rest. A token may be used once,
//     only in the session and on the collector that returned it; it dies with
//     its session (or collector). A test can make the server return fewer
//     objects than asked, as vCenter's policy may (/_vcsim/page-limit).
//   - An object in a filter spec's objectSet that does not exist in the caller's
//     session (a view of an ended session) is a ManagedObjectNotFound fault
//     unless reportMissingObjectsInResults is set; vcsim silently skips it,
//     which would turn a lost view into an empty result.
//   - An empty result has no returnval.
//   - CreatePropertyCollector makes collectors that behave like this one.
//   - Chosen properties can be denied (/_vcsim/missing): they come back in
//     missingSet with a NoPermission fault, as for a user without the privilege.
//
// The simulator makes each session's collector with reflect.New of the
// registered type, so the type embeds the simulator's by value and keeps its
// state in package variables.

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"sync"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

type propertyCollector struct {
	simulator.PropertyCollector
}

// pageSet is what a retrieval has not returned yet, under one token.
type pageSet struct {
	session    string // the SOAP session key it belongs to
	collector  types.ManagedObjectReference
	objects    []types.ObjectContent
	maxObjects int // as the retrieval asked (0: no maximum)
}

var (
	pagesMu   sync.Mutex
	pageSets  = map[string]*pageSet{} // by token
	pageLimit int                     // server policy: objects per page at most (0: none)
	abandoned int                     // page sets whose session ended before they were read or cancelled
)

// pageSize is how many objects the next page holds.
func pageSize(maxObjects int) int {
	size := maxObjects
	if pageLimit > 0 && (size == 0 || pageLimit < size) {
		size = pageLimit
	}
	return size
}

// nextPage returns the first page of objects and keeps the rest under a new
// token (pagesMu held).
func nextPage(set pageSet) *types.RetrieveResult {
	if len(set.objects) == 0 {
		return nil
	}
	size := pageSize(set.maxObjects)
	if size == 0 || len(set.objects) <= size {
		return &types.RetrieveResult{Objects: set.objects}
	}
	token := newToken()
	rest := set
	rest.objects = set.objects[size:]
	pageSets[token] = &rest
	return &types.RetrieveResult{Objects: set.objects[:size], Token: token}
}

func newToken() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// dropEndedSessions forgets page sets whose session has ended (pagesMu held).
func dropEndedSessions() {
	alive := map[string]bool{}
	for token, set := range pageSets {
		ok, seen := alive[set.session]
		if !seen {
			ok = sessionAlive(set.session)
			alive[set.session] = ok
		}
		if !ok {
			delete(pageSets, token)
			abandoned++
		}
	}
}

// takePageSet removes and returns the page set of a token if the caller may
// use it: same session, same collector.
func takePageSet(ctx *simulator.Context, collector types.ManagedObjectReference, token string) *pageSet {
	pagesMu.Lock()
	defer pagesMu.Unlock()
	dropEndedSessions()
	set, ok := pageSets[token]
	if !ok || set.session != ctx.Session.Key || set.collector != collector {
		return nil
	}
	delete(pageSets, token)
	return set
}

// invalidToken is what a token that is unknown, used, cancelled, of another
// session or of another collector gets (InvalidProperty, as vcsim's later
// releases answer), unless the caller's own session ended while the call was
// being served, which took the token with it: then NotAuthenticated, as for
// any call the session did not outlive.
func invalidToken(ctx *simulator.Context, this types.ManagedObjectReference) *soap.Fault {
	if !sessionAlive(ctx.Session.Key) {
		return simulator.Fault(notLoggedIn, notAuthenticated(this))
	}
	return simulator.Fault("", &types.InvalidProperty{Name: "token"})
}

// missingObject is the ManagedObjectNotFound fault for the first object of an
// objectSet that the caller's session cannot see, unless the spec asks for
// missing objects to be reported in the results.
func missingObject(ctx *simulator.Context, specs []types.PropertyFilterSpec) *soap.Fault {
	for _, spec := range specs {
		if spec.ReportMissingObjectsInResults != nil && *spec.ReportMissingObjectsInResults {
			continue
		}
		for _, o := range spec.ObjectSet {
			if ctx.Session.Get(o.Obj) == nil {
				return simulator.Fault(
					"The object has already been deleted or has not been completely created",
					&types.ManagedObjectNotFound{Obj: o.Obj})
			}
		}
	}
	return nil
}

// RetrievePropertiesEx retrieves as the simulator does, moves denied
// properties to missingSet, and returns the first page.
func (pc *propertyCollector) RetrievePropertiesEx(ctx *simulator.Context, req *types.RetrievePropertiesEx) soap.HasFault {
	body := &methods.RetrievePropertiesExBody{}
	if ctx.Session == nil {
		body.Fault_ = simulator.Fault("", notAuthenticated(req.This))
		return body
	}
	if req.Options.MaxObjects < 0 {
		body.Fault_ = simulator.Fault("", &types.InvalidArgument{InvalidProperty: "maxObjects"})
		return body
	}
	if fault := missingObject(ctx, req.SpecSet); fault != nil {
		body.Fault_ = fault
		return body
	}
	res := pc.PropertyCollector.RetrievePropertiesEx(ctx, req)
	full, ok := res.(*methods.RetrievePropertiesExBody)
	if !ok || full.Res == nil || full.Res.Returnval == nil {
		return res
	}
	objects := full.Res.Returnval.Objects
	hideProperties(req.SpecSet, objects)
	pagesMu.Lock()
	dropEndedSessions()
	full.Res.Returnval = nextPage(pageSet{
		session:    ctx.Session.Key,
		collector:  req.This,
		objects:    objects,
		maxObjects: int(req.Options.MaxObjects),
	})
	pagesMu.Unlock()
	return full
}

// ContinueRetrievePropertiesEx returns the next page of a retrieval.
func (pc *propertyCollector) ContinueRetrievePropertiesEx(ctx *simulator.Context, req *types.ContinueRetrievePropertiesEx) soap.HasFault {
	body := &methods.ContinueRetrievePropertiesExBody{}
	set := takePageSet(ctx, req.This, req.Token)
	if set == nil {
		body.Fault_ = invalidToken(ctx, req.This)
		return body
	}
	pagesMu.Lock()
	page := nextPage(*set)
	pagesMu.Unlock()
	body.Res = &types.ContinueRetrievePropertiesExResponse{Returnval: *page}
	return body
}

// CancelRetrievePropertiesEx discards what a retrieval has not returned yet.
func (pc *propertyCollector) CancelRetrievePropertiesEx(ctx *simulator.Context, req *types.CancelRetrievePropertiesEx) soap.HasFault {
	body := &methods.CancelRetrievePropertiesExBody{}
	if takePageSet(ctx, req.This, req.Token) == nil {
		body.Fault_ = invalidToken(ctx, req.This)
		return body
	}
	body.Res = &types.CancelRetrievePropertiesExResponse{}
	return body
}

// CreatePropertyCollector makes a collector of this type (the simulator's
// would make one of its own, without paging).
func (pc *propertyCollector) CreatePropertyCollector(ctx *simulator.Context, req *types.CreatePropertyCollector) soap.HasFault {
	created := &propertyCollector{}
	created.Self.Type = "PropertyCollector"
	return &methods.CreatePropertyCollectorBody{
		Res: &types.CreatePropertyCollectorResponse{Returnval: ctx.Session.Put(created).Reference()},
	}
}

// DestroyPropertyCollector destroys a collector and its unfinished retrievals.
func (pc *propertyCollector) DestroyPropertyCollector(ctx *simulator.Context, req *types.DestroyPropertyCollector) soap.HasFault {
	res := pc.PropertyCollector.DestroyPropertyCollector(ctx, req)
	pagesMu.Lock()
	for token, set := range pageSets {
		if set.session == ctx.Session.Key && set.collector == req.This {
			delete(pageSets, token)
		}
	}
	pagesMu.Unlock()
	return res
}

// openRetrieval describes an unfinished retrieval of a live session.
type openRetrieval struct {
	Session   string `json:"session"`
	Collector string `json:"collector"`
	Remaining int    `json:"remaining"`
}

// serveRetrievals handles /_vcsim/retrievals:
//
//	GET  {"open": [{"session", "collector", "remaining"}], "abandoned": N}: the
//	     unfinished retrievals of live sessions, and how many page sets were
//	     dropped because their session ended before they were read or cancelled
func serveRetrievals(w http.ResponseWriter, r *http.Request) {
	pagesMu.Lock()
	dropEndedSessions()
	open := []openRetrieval{}
	for _, set := range pageSets {
		open = append(open, openRetrieval{
			Session:   sessions.label(set.session, "soap"),
			Collector: set.collector.Value,
			Remaining: len(set.objects),
		})
	}
	state := map[string]interface{}{"open": open, "abandoned": abandoned}
	pagesMu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(state)
}

// servePageLimit handles /_vcsim/page-limit:
//
//	POST ?objects=N  every page holds at most N objects, whatever maxObjects asks (0: no limit)
func servePageLimit(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	n, err := optionalCount(r.URL.Query().Get("objects"))
	if err != nil || r.URL.Query().Get("objects") == "" {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	pagesMu.Lock()
	pageLimit = n
	pagesMu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// hiddenProperty is a property path RetrievePropertiesEx reports in missingSet
// with a NoPermission fault instead of returning it, as vCenter does for
// objects on which the user lacks a privilege.
type hiddenProperty struct {
	kind, id, path, privilege string // id "" means every object of the type
}

var (
	hiddenMu sync.Mutex
	hidden   []hiddenProperty
)

// serveMissing handles /_vcsim/missing:
//
//	POST   ?type=T&path=P&privilege=PRIV[&id=ID]  RetrievePropertiesEx reports P of
//	       every T (or of T:ID) in missingSet with NoPermission(PRIV, that object)
//	DELETE                                        nothing is hidden any more
func serveMissing(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	switch r.Method {
	case http.MethodPost:
		h := hiddenProperty{q.Get("type"), q.Get("id"), q.Get("path"), q.Get("privilege")}
		if h.kind == "" || h.path == "" || h.privilege == "" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		hiddenMu.Lock()
		hidden = append(hidden, h)
		hiddenMu.Unlock()
	case http.MethodDelete:
		hiddenMu.Lock()
		hidden = nil
		hiddenMu.Unlock()
	default:
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// hideProperties moves hidden properties from propSet to missingSet. A hidden
// path is reported when the request asks for it (by name or with all=true),
// set or not, as vCenter does.
func hideProperties(specs []types.PropertyFilterSpec, objects []types.ObjectContent) {
	hiddenMu.Lock()
	rules := append([]hiddenProperty(nil), hidden...)
	hiddenMu.Unlock()
	if len(rules) == 0 {
		return
	}
	asked := map[string]bool{}
	all := false
	for _, spec := range specs {
		for _, ps := range spec.PropSet {
			all = all || (ps.All != nil && *ps.All)
			for _, p := range ps.PathSet {
				asked[p] = true
			}
		}
	}
	for i := range objects {
		o := &objects[i]
		for _, h := range rules {
			if h.kind != o.Obj.Type || (h.id != "" && h.id != o.Obj.Value) || !(all || asked[h.path]) {
				continue
			}
			kept := o.PropSet[:0]
			for _, p := range o.PropSet {
				if p.Name != h.path {
					kept = append(kept, p)
				}
			}
			o.PropSet = kept
			o.MissingSet = append(o.MissingSet, types.MissingProperty{
				Path: h.path,
				Fault: types.LocalizedMethodFault{
					Fault:            &types.NoPermission{Object: o.Obj, PrivilegeId: h.privilege},
					LocalizedMessage: permissionDenied,
				},
			})
		}
	}
}

func init() {
	testAPI["/_vcsim/retrievals"] = serveRetrievals
	testAPI["/_vcsim/page-limit"] = servePageLimit
	testAPI["/_vcsim/missing"] = serveMissing
}
