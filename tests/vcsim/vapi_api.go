package main

// vSphere's /api flavour of the vAPI session and tagging services (vSphere 7.0
// U2 and later; the only one left once /rest is removed), served from the same
// tag store as vcsim's /rest endpoints: each /api request is translated into
// its /rest twin, handed to vcsim's vAPI handler in-process, and its answer
// given the /api shape that vSphere 8's reference documents:
//
//	/rest                                       /api
//	POST .../cis/session            {"value":id}  POST /api/session        201 "id"
//	POST .../cis/session?~action=get              GET  /api/session        200 {user, ...}
//	DELETE .../cis/session                        DELETE /api/session      204
//	GET .../tagging/tag             {"value":[…]} GET /api/cis/tagging/tag 200 […]
//	GET .../tagging/tag/id:ID                     GET /api/cis/tagging/tag/ID
//	POST .../tagging/tag {"create_spec":{…}}      POST /api/cis/tagging/tag {…}   201 "id"
//	PATCH .../tag/id:ID {"update_spec":{…}}       PATCH /api/cis/tagging/tag/ID {…} 204
//	POST .../tag-association?~action=A {…}        POST /api/cis/tagging/tag-association?action=A {…}
//	POST .../tag-association/id:ID?~action=attach POST /api/cis/tagging/tag-association/ID?action=attach 204
//	POST .../tag/id:CAT?~action=list-tags-for-category
//	                                              POST /api/cis/tagging/tag?action=list-tags-for-category {"category_id"}
//
// (categories as tags). Errors are {"error_type": "NOT_FOUND", "messages": []}.
// /_vcsim/vapi chooses which of /api and /rest the server has at all.

import (
	"bytes"
	"encoding/json"
	"io/ioutil"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
)

const (
	restSession = "/rest/com/vmware/cis/session"
	restTagging = "/rest/com/vmware/cis/tagging/"
	apiTagging  = "/api/cis/tagging/"
)

// apiHandler serves /api from vcsim's /rest handler.
type apiHandler struct {
	rest http.Handler
}

func (h *apiHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := ioutil.ReadAll(r.Body)
	if err != nil {
		apiError(w, http.StatusBadRequest, "INVALID_ARGUMENT")
		return
	}
	switch {
	case r.URL.Path == "/api/session":
		h.session(w, r)
	case strings.HasPrefix(r.URL.Path, apiTagging):
		h.tagging(w, r, body)
	default:
		apiError(w, http.StatusNotFound, "NOT_FOUND")
	}
}

// forward makes the /rest request and returns vcsim's answer.
func (h *apiHandler) forward(r *http.Request, method, path, action string, body []byte) *httptest.ResponseRecorder {
	target := url.URL{Path: path}
	if action != "" {
		target.RawQuery = url.Values{"~action": {action}}.Encode()
	}
	req, err := http.NewRequest(method, target.String(), bytes.NewReader(body))
	if err != nil {
		panic(err) // the path and query are built here
	}
	for _, name := range []string{"Authorization", vapiHeader, "Content-Type"} {
		if v := r.Header.Get(name); v != "" {
			req.Header.Set(name, v)
		}
	}
	if c, err := r.Cookie(vapiHeader); err == nil && req.Header.Get(vapiHeader) == "" {
		req.Header.Set(vapiHeader, c.Value)
	}
	rec := httptest.NewRecorder()
	h.rest.ServeHTTP(rec, req)
	return rec
}

func (h *apiHandler) session(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodPost:
		if r.URL.RawQuery != "" {
			apiError(w, http.StatusBadRequest, "INVALID_ARGUMENT")
			return
		}
		h.answer(w, h.forward(r, http.MethodPost, restSession, "", nil), http.StatusCreated)
	case http.MethodGet:
		h.answer(w, h.forward(r, http.MethodPost, restSession, "get", nil), http.StatusOK)
	case http.MethodDelete:
		h.answer(w, h.forward(r, http.MethodDelete, restSession, "", nil), http.StatusNoContent)
	default:
		apiError(w, http.StatusMethodNotAllowed, "OPERATION_NOT_FOUND")
	}
}

func (h *apiHandler) tagging(w http.ResponseWriter, r *http.Request, body []byte) {
	parts := strings.SplitN(strings.TrimPrefix(r.URL.Path, apiTagging), "/", 2)
	kind, id := parts[0], ""
	if len(parts) == 2 {
		id = parts[1]
	}
	if (kind != "category" && kind != "tag" && kind != "tag-association") || strings.Contains(id, "/") {
		apiError(w, http.StatusNotFound, "NOT_FOUND")
		return
	}
	action := r.URL.Query().Get("action")
	success := http.StatusOK
	switch {
	case kind == "tag" && action == "list-tags-for-category" && id == "":
		// /api names the category in the body, /rest in the path.
		var spec struct {
			CategoryID string `json:"category_id"`
		}
		if json.Unmarshal(body, &spec) != nil || spec.CategoryID == "" {
			apiError(w, http.StatusBadRequest, "INVALID_ARGUMENT")
			return
		}
		id, body = spec.CategoryID, nil
	case r.Method == http.MethodPost && id == "" && action == "" && kind != "tag-association":
		body, success = wrapSpec("create_spec", body), http.StatusCreated
	case r.Method == http.MethodPatch:
		body, success = wrapSpec("update_spec", body), http.StatusNoContent
	case r.Method == http.MethodDelete:
		success = http.StatusNoContent
	}
	path := restTagging + kind
	if id != "" {
		path += "/id:" + id
	}
	h.answer(w, h.forward(r, r.Method, path, action, body), success)
}

// wrapSpec puts an /api request body where /rest expects it.
func wrapSpec(name string, body []byte) []byte {
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("null")
	}
	wrapped, err := json.Marshal(map[string]json.RawMessage{name: body})
	if err != nil {
		return body // not JSON: let /rest reject it
	}
	return wrapped
}

// answer gives a /rest answer the /api shape: the bare value (a null or
// omitted one is an empty list), no body for an operation that returns nothing, and
// /api's error documents.
func (h *apiHandler) answer(w http.ResponseWriter, rest *httptest.ResponseRecorder, success int) {
	switch rest.Code {
	case http.StatusOK:
	case http.StatusUnauthorized:
		apiError(w, http.StatusUnauthorized, "UNAUTHENTICATED")
		return
	case http.StatusNotFound:
		apiError(w, http.StatusNotFound, "NOT_FOUND")
		return
	case http.StatusBadRequest:
		var vapiErr struct {
			Type string `json:"type"`
		}
		kind := "INVALID_ARGUMENT"
		if json.Unmarshal(rest.Body.Bytes(), &vapiErr) == nil && vapiErr.Type != "" {
			kind = strings.ToUpper(vapiErr.Type[strings.LastIndex(vapiErr.Type, ".")+1:])
		}
		apiError(w, http.StatusBadRequest, kind)
		return
	default:
		apiError(w, rest.Code, "ERROR")
		return
	}
	data := bytes.TrimSpace(rest.Body.Bytes())
	if len(data) == 0 || success == http.StatusNoContent {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	var wrapped struct {
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(data, &wrapped); err != nil {
		apiError(w, http.StatusInternalServerError, "ERROR")
		return
	}
	value := wrapped.Value
	if len(value) == 0 || string(value) == "null" {
		value = json.RawMessage("[]") // vcsim's encoding of an empty list
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(success)
	_, _ = w.Write(append(value, '\n'))
}

// apiError writes an /api error document.
func apiError(w http.ResponseWriter, status int, kind string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]interface{}{"error_type": kind, "messages": []string{}})
}

// Which vAPI flavours the server has: "both" (vSphere 7.0 U2 to 8), "api"
// (/rest removed) or "rest" (before 7.0 U2, and vcsim itself).
var (
	vapiMu      sync.Mutex
	vapiFlavour = "both"
)

func validFlavour(f string) bool {
	return f == "both" || f == "api" || f == "rest"
}

// vapiRemoved tells whether a request path belongs to a vAPI flavour the
// server does not have.
func vapiRemoved(path string) bool {
	vapiMu.Lock()
	defer vapiMu.Unlock()
	switch {
	case strings.HasPrefix(path, "/api/"):
		return vapiFlavour == "rest"
	case strings.HasPrefix(path, "/rest/"):
		return vapiFlavour == "api"
	}
	return false
}

// serveVapi handles /_vcsim/vapi:
//
//	POST ?serve=both|api|rest  which vAPI flavours answer; the other gets 404
func serveVapi(w http.ResponseWriter, r *http.Request) {
	flavour := r.URL.Query().Get("serve")
	if r.Method != http.MethodPost {
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	if !validFlavour(flavour) {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	vapiMu.Lock()
	vapiFlavour = flavour
	vapiMu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// serveAPI adds /api to the simulator's mux, backed by its /rest handler.
func serveAPI(mux *http.ServeMux) {
	rest, _ := mux.Handler(&http.Request{Method: http.MethodGet, URL: &url.URL{Path: restSession}})
	mux.Handle("/api/", &apiHandler{rest: rest})
}

func init() {
	testAPI["/_vcsim/vapi"] = serveVapi
}
