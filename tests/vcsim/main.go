// Command vcsim starts govmomi's vCenter simulator for scalearc-lint's tests.
//
// It differs from upstream's vcsim in what the tests need: a P-256 certificate
// for 127.0.0.1 signed by a throw-away CA (OpenSSL rejects the simulator's
// built-in RSA-1024 one) written out so clients can verify TLS, a login that
// is actually checked, the vAPI endpoints (/rest, and /api as vSphere 7.0 U2+
// serves it: vapi_api.go), and behaviour closer to a vCenter's: a
// PropertyCollector that pages (property_collector.go), sessions that calls
// need and that can end between two calls (sessions.go), and network latency
// (latency.go). A small loopback-only test API under /_vcsim/ records which
// SOAP methods and REST calls were made (and in which session), can slow down
// chosen SOAP methods (to kill or disturb an export while it runs) and can
// deny privileges the way a real vCenter does (vcsim enforces none): a method
// can answer with a NoPermission SOAP fault, and RetrievePropertiesEx can
// report chosen properties in missingSet.
//
// It also sets what vcsim 0.24 cannot: PostEvent keeps the chainId a client
// posts (vcsim overwrites it with the event's key, so one operation's events
// could not be chained), a cluster's drsConfig.enableVmBehaviorOverrides is
// set by /_vcsim/drs and, as vCenter does, by a ReconfigureComputeResource_Task
// whose spec carries it (vcsim ignores drsConfig reconfiguration), /_vcsim/ha
// sets a cluster's dasConfig.enabled and default restart priority (ignored in a
// reconfiguration too), and /_vcsim/consolidation a VM's
// runtime.consolidationNeeded (which vcsim never sets); /_vcsim/garble cuts or
// garbles the next response to a method (garble.go).
//
// It prints one JSON line {"url", "ca_file", "user"} on stdout once it is
// serving, and serves until it receives SIGINT or SIGTERM.
package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"encoding/xml"
	"flag"
	"fmt"
	"io"
	"io/ioutil"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/vmware/govmomi/simulator"
	_ "github.com/vmware/govmomi/vapi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/types"
	vimxml "github.com/vmware/govmomi/vim25/xml"
)

// What vCenter says in a NoPermission and a NotAuthenticated fault.
const (
	permissionDenied = "Permission to perform this operation was denied."
	notLoggedIn      = "The session is not authenticated."
)

// testAPI holds the /_vcsim/ endpoints defined in the other files, by path.
var testAPI = map[string]http.HandlerFunc{}

// recorder wraps the simulator's HTTP handler: it logs every call and applies
// the per-method delays set through /_vcsim/delay.
type recorder struct {
	next http.Handler

	mu      sync.Mutex
	calls   []string
	secrets map[string]bool
	delays  map[string]time.Duration
	faults  map[string]methodFault
}

// methodFault is a NoPermission fault set through /_vcsim/fault for one SOAP method.
type methodFault struct {
	privilege string
	object    *types.ManagedObjectReference // nil: the object the method was called on
	skip      int                           // calls still served before the fault applies
}

// soapMethod returns the name of the first element inside the SOAP Body and,
// when it has one, the object it is called on (its _this argument).
func soapMethod(body []byte) (string, types.ManagedObjectReference) {
	d := xml.NewDecoder(bytes.NewReader(body))
	inBody := false
	method := ""
	for {
		tok, err := d.Token()
		if err != nil {
			if method == "" {
				method = "?"
			}
			return method, types.ManagedObjectReference{}
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		switch {
		case method != "":
			// The first argument; vSphere's WSDL puts _this there.
			var this types.ManagedObjectReference
			if se.Name.Local == "_this" && d.DecodeElement(&this, &se) == nil {
				return method, this
			}
			return method, types.ManagedObjectReference{}
		case inBody:
			method = se.Name.Local
		default:
			inBody = se.Name.Local == "Body"
		}
	}
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if handle, ok := testAPI[r.URL.Path]; ok {
		handle(w, r)
		return
	}
	switch r.URL.Path {
	case "/_vcsim/calls":
		rec.serveCalls(w)
		return
	case "/_vcsim/delay":
		rec.serveDelay(w, r)
		return
	case "/_vcsim/fault":
		rec.serveFault(w, r)
		return
	case "/_vcsim/missing":
		serveMissing(w, r)
		return
	case "/_vcsim/drs":
		serveDrs(w, r)
		return
	case "/_vcsim/ha":
		serveHA(w, r)
		return
	case "/_vcsim/consolidation":
		serveConsolidation(w, r)
		return
	}

	var entry, method string
	var this types.ManagedObjectReference
	var delay time.Duration
	var fault *types.NoPermission
	var chain int32
	var drsSwitch *bool
	var drsCluster string
	soap := r.Method == http.MethodPost && r.URL.Path == "/sdk"
	if soap {
		body, err := ioutil.ReadAll(r.Body)
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		r.Body = ioutil.NopCloser(bytes.NewReader(body))
		method, this = soapMethod(body)
		entry = "SOAP " + method
		if method == "PostEvent" {
			chain = postedChain(body)
		}
		if method == "ReconfigureComputeResource_Task" && this.Type == "ClusterComputeResource" {
			drsSwitch, drsCluster = postedVmOverrides(body), this.Value
		}
		rec.mu.Lock()
		delay = rec.delays[method]
		if f, ok := rec.faults[method]; ok {
			if f.skip > 0 {
				f.skip--
				rec.faults[method] = f
			} else {
				fault = &types.NoPermission{Object: this, PrivilegeId: f.privilege}
				if f.object != nil {
					fault.Object = *f.object
				}
			}
		}
		rec.mu.Unlock()
	} else {
		entry = "HTTP " + r.Method + " " + r.URL.Path
		for _, param := range []string{"~action", "action"} {
			if action := r.URL.Query().Get(param); action != "" {
				entry += "?" + param + "=" + action
			}
		}
	}

	rec.mu.Lock()
	rec.calls = append(rec.calls, entry)
	if c, err := r.Cookie(soapCookie); err == nil {
		rec.secrets[c.Value] = true
	}
	if id := r.Header.Get(vapiHeader); id != "" {
		rec.secrets[id] = true
	}
	rec.mu.Unlock()
	logged := sessions.record(entry, r)
	rw := &secretSniffer{ResponseWriter: w, rec: rec, vapiLogin: isVapiLogin(r), status: http.StatusOK}
	defer func() { sessions.answered(logged, rw.status, rw.opened, rw.openedKind) }()

	if wait := roundTrip() + delay; wait > 0 {
		time.Sleep(wait)
	}
	if vapiRemoved(r.URL.Path) {
		http.NotFound(rw, r)
		return
	}
	if soap {
		// As a vCenter: the session is checked when the call is served.
		expireBeforeCall(method, r)
		if c, err := r.Cookie(soapCookie); !sessionlessMethods[method] && (err != nil || !sessionAlive(c.Value)) {
			writeFault(rw, notAuthenticated(this), notLoggedIn)
			return
		}
	}
	if fault != nil {
		writeFault(rw, fault, permissionDenied)
		return
	}
	if mode := takeGarble(method); soap && mode != "" {
		serveGarbled(rec.next, rw, r, mode)
	} else {
		rec.next.ServeHTTP(rw, r)
	}
	if chain != 0 {
		keepChain(chain)
	}
	if drsSwitch != nil {
		setVmOverrides(drsCluster, *drsSwitch)
	}
}

// vmOverridesPattern finds drsConfig.enableVmBehaviorOverrides in a
// ReconfigureComputeResource_Task request.
var vmOverridesPattern = regexp.MustCompile(
	`(?s)<drsConfig[^>]*>.*?<enableVmBehaviorOverrides>(true|false)</enableVmBehaviorOverrides>`)

// postedVmOverrides is the enableVmBehaviorOverrides a cluster reconfiguration
// sets (nil when it sets none).
func postedVmOverrides(body []byte) *bool {
	m := vmOverridesPattern.FindSubmatch(body)
	if m == nil {
		return nil
	}
	return types.NewBool(string(m[1]) == "true")
}

// chainIDPattern finds the posted event's chainId in a PostEvent request.
var chainIDPattern = regexp.MustCompile(`<chainId>(-?[0-9]+)</chainId>`)

// postedChain is the chainId a PostEvent request carries (0 when none).
func postedChain(body []byte) int32 {
	m := chainIDPattern.FindSubmatch(body)
	if m == nil {
		return 0
	}
	n, err := strconv.ParseInt(string(m[1]), 10, 32)
	if err != nil {
		return 0
	}
	return int32(n)
}

// keepChain gives the event just posted the chainId its client posted: vcsim's
// PostEvent sets chainId to the event's own key, but vCenter gives all events
// of one operation (e.g. VmBeingHotMigratedEvent, then VmMigratedEvent) the
// same chainId, and clients join them by it. Tests post one event at a time.
func keepChain(chain int32) {
	em := simulator.Map.EventManager()
	simulator.Map.WithLock(em, func() {
		res := em.QueryEvents(&simulator.Context{}, &types.QueryEvents{Filter: types.EventFilterSpec{MaxCount: 1}})
		body, ok := res.(*methods.QueryEventsBody)
		if !ok || body.Res == nil || len(body.Res.Returnval) == 0 {
			log.Printf("vcsim: no event to give chainId %d", chain)
			return
		}
		body.Res.Returnval[0].GetEvent().ChainId = chain
	})
}

// serveDrs handles /_vcsim/drs:
//
//	POST ?id=CLUSTER&vm_overrides=true|false  sets the cluster's
//	     configurationEx.drsConfig.enableVmBehaviorOverrides
func serveDrs(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	q := r.URL.Query()
	value, err := strconv.ParseBool(q.Get("vm_overrides"))
	if err != nil || q.Get("id") == "" {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	if !setVmOverrides(q.Get("id"), value) {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// setVmOverrides sets a cluster's configurationEx.drsConfig.enableVmBehaviorOverrides
// (false when there is no such cluster).
func setVmOverrides(id string, value bool) bool {
	ref := types.ManagedObjectReference{Type: "ClusterComputeResource", Value: id}
	cluster, ok := simulator.Map.Get(ref).(*simulator.ClusterComputeResource)
	if !ok {
		return false
	}
	simulator.Map.WithLock(cluster, func() {
		config := cluster.ConfigurationEx.(*types.ClusterConfigInfoEx)
		config.DrsConfig.EnableVmBehaviorOverrides = types.NewBool(value)
	})
	return true
}

// isVapiLogin tells whether a request opens a vAPI session (/rest or /api).
func isVapiLogin(r *http.Request) bool {
	return r.Method == http.MethodPost && r.URL.RawQuery == "" &&
		(r.URL.Path == "/rest/com/vmware/cis/session" || r.URL.Path == "/api/session")
}

// serveHA handles /_vcsim/ha:
//
//	POST ?id=CLUSTER&enabled=true|false[&restart_priority=P]  sets the cluster's
//	     configurationEx.dasConfig.enabled and, when given, its
//	     dasConfig.defaultVmSettings.restartPriority ("" unsets it)
func serveHA(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	q := r.URL.Query()
	enabled, err := strconv.ParseBool(q.Get("enabled"))
	if err != nil || q.Get("id") == "" {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	ref := types.ManagedObjectReference{Type: "ClusterComputeResource", Value: q.Get("id")}
	cluster, ok := simulator.Map.Get(ref).(*simulator.ClusterComputeResource)
	if !ok {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	priority, setPriority := q["restart_priority"]
	simulator.Map.WithLock(cluster, func() {
		config := cluster.ConfigurationEx.(*types.ClusterConfigInfoEx)
		config.DasConfig.Enabled = types.NewBool(enabled)
		if setPriority {
			if priority[0] == "" {
				config.DasConfig.DefaultVmSettings = nil
			} else {
				config.DasConfig.DefaultVmSettings = &types.ClusterDasVmSettings{RestartPriority: priority[0]}
			}
		}
	})
	w.WriteHeader(http.StatusNoContent)
}

// serveConsolidation handles /_vcsim/consolidation:
//
//	POST ?id=VM&needed=true|false  sets the VM's runtime.consolidationNeeded
func serveConsolidation(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	q := r.URL.Query()
	needed, err := strconv.ParseBool(q.Get("needed"))
	if err != nil || q.Get("id") == "" {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	ref := types.ManagedObjectReference{Type: "VirtualMachine", Value: q.Get("id")}
	vm, ok := simulator.Map.Get(ref).(*simulator.VirtualMachine)
	if !ok {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	simulator.Map.WithLock(vm, func() {
		vm.Runtime.ConsolidationNeeded = types.NewBool(needed)
	})
	w.WriteHeader(http.StatusNoContent)
}

// secretSniffer remembers the session cookies and REST session ids the
// server hands out, so tests can check that none of them leaks, and which
// session a login opened.
type secretSniffer struct {
	http.ResponseWriter
	rec        *recorder
	vapiLogin  bool
	status     int    // the HTTP status answered
	opened     string // the session this response opened, if any
	openedKind string
}

func (s *secretSniffer) WriteHeader(code int) {
	s.status = code
	for _, c := range (&http.Response{Header: s.Header()}).Cookies() {
		s.rec.mu.Lock()
		s.rec.secrets[c.Value] = true
		s.rec.mu.Unlock()
		if c.Name == soapCookie {
			s.opened, s.openedKind = c.Value, "soap"
		}
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *secretSniffer) Write(b []byte) (int, error) {
	// A REST login answers {"value": "<session id>"}, an /api login "<session id>";
	// record them too.
	if len(b) < 256 && (s.vapiLogin || bytes.Contains(b, []byte(`"value"`))) {
		var v struct {
			Value interface{} `json:"value"`
		}
		var bare string
		id := ""
		if json.Unmarshal(b, &v) == nil {
			id, _ = v.Value.(string)
		} else if s.vapiLogin && json.Unmarshal(b, &bare) == nil {
			id = bare
		}
		if id != "" {
			s.rec.mu.Lock()
			s.rec.secrets[id] = true
			s.rec.mu.Unlock()
			if s.vapiLogin {
				s.opened, s.openedKind = id, "vapi"
			}
		}
	}
	return s.ResponseWriter.Write(b)
}

func (rec *recorder) serveCalls(w http.ResponseWriter) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	secrets := make([]string, 0, len(rec.secrets))
	for s := range rec.secrets {
		secrets = append(secrets, s)
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]interface{}{
		"calls":   rec.calls,
		"log":     sessions.entries(),
		"secrets": secrets,
	})
}

func (rec *recorder) serveDelay(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	method := r.URL.Query().Get("method")
	ms, err := strconv.Atoi(r.URL.Query().Get("ms"))
	if method == "" || err != nil || ms < 0 {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	rec.mu.Lock()
	rec.delays[method] = time.Duration(ms) * time.Millisecond
	rec.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// objectParam reads an optional managed object reference from the type and id
// query parameters; both or neither must be given.
func objectParam(q url.Values) (*types.ManagedObjectReference, bool) {
	kind, id := q.Get("type"), q.Get("id")
	if kind == "" && id == "" {
		return nil, true
	}
	if kind == "" || id == "" {
		return nil, false
	}
	return &types.ManagedObjectReference{Type: kind, Value: id}, true
}

// serveFault handles /_vcsim/fault:
//
//	POST   ?method=M&privilege=P[&type=T&id=ID][&after=N]  every later call of M
//	       (but the next N) fails with NoPermission(privilegeId P, object T:ID or
//	       the object M was called on)
//	DELETE ?method=M                             M works again
//	DELETE                                       every method works again
func (rec *recorder) serveFault(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	method := q.Get("method")
	switch r.Method {
	case http.MethodPost:
		object, ok := objectParam(q)
		skip, err := optionalCount(q.Get("after"))
		if method == "" || q.Get("privilege") == "" || !ok || err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		rec.mu.Lock()
		rec.faults[method] = methodFault{privilege: q.Get("privilege"), object: object, skip: skip}
		rec.mu.Unlock()
	case http.MethodDelete:
		rec.mu.Lock()
		if method == "" {
			rec.faults = map[string]methodFault{}
		} else {
			delete(rec.faults, method)
		}
		rec.mu.Unlock()
	default:
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// The SOAP fault envelope, as the simulator writes it (simulator.go's
// soapEnvelope, soapFault and faultDetail are not exported).
type faultEnvelope struct {
	XMLName vimxml.Name `xml:"soapenv:Envelope"`
	Enc     string      `xml:"xmlns:soapenc,attr"`
	Env     string      `xml:"xmlns:soapenv,attr"`
	XSD     string      `xml:"xmlns:xsd,attr"`
	XSI     string      `xml:"xmlns:xsi,attr"`
	Fault   struct {
		Code   string      `xml:"faultcode"`
		String string      `xml:"faultstring"`
		Detail faultDetail `xml:"detail"`
	} `xml:"soapenv:Body>soapenv:Fault"`
}

type faultDetail struct {
	Fault types.BaseMethodFault
}

// MarshalXML writes e.g. <detail><NoPermissionFault xmlns="urn:vim25" xsi:type="NoPermission">.
func (d faultDetail) MarshalXML(e *vimxml.Encoder, start vimxml.StartElement) error {
	if err := e.EncodeToken(start); err != nil {
		return err
	}
	kind := reflect.TypeOf(d.Fault).Elem().Name()
	inner := vimxml.StartElement{
		Name: vimxml.Name{Local: kind + "Fault"},
		Attr: []vimxml.Attr{
			{Name: vimxml.Name{Local: "xmlns"}, Value: "urn:vim25"},
			{Name: vimxml.Name{Local: "xsi:type"}, Value: kind},
		},
	}
	if err := e.EncodeElement(d.Fault, inner); err != nil {
		return err
	}
	return e.EncodeToken(start.End())
}

// writeFault answers a SOAP call with a fault, as vCenter does: HTTP 500,
// faultcode ServerFaultCode, the fault in the detail.
func writeFault(w http.ResponseWriter, fault types.BaseMethodFault, message string) {
	env := faultEnvelope{
		Enc: "http://schemas.xmlsoap.org/soap/encoding/",
		Env: "http://schemas.xmlsoap.org/soap/envelope/",
		XSD: "http://www.w3.org/2001/XMLSchema",
		XSI: "http://www.w3.org/2001/XMLSchema-instance",
	}
	env.Fault.Code = "ServerFaultCode"
	env.Fault.String = message
	env.Fault.Detail = faultDetail{fault}
	var out bytes.Buffer
	out.WriteString(xml.Header)
	if err := vimxml.NewEncoder(&out).Encode(&env); err != nil {
		log.Printf("vcsim: encoding a fault: %s", err)
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.WriteHeader(http.StatusInternalServerError)
	_, _ = w.Write(out.Bytes())
}

// writeCertificates creates a P-256 CA and a server certificate for
// 127.0.0.1 signed by it, writes the CA to dir/ca.pem and returns the server
// certificate and the CA file's path.
func writeCertificates(dir string) (tls.Certificate, string, error) {
	newKey := func() (*ecdsa.PrivateKey, error) { return ecdsa.GenerateKey(elliptic.P256(), rand.Reader) }
	serial := func() *big.Int {
		n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
		return n
	}
	now := time.Now()

	caKey, err := newKey()
	if err != nil {
		return tls.Certificate{}, "", err
	}
	caTemplate := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "scalearc-lint test CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(7 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTemplate, caTemplate, &caKey.PublicKey, caKey)
	if err != nil {
		return tls.Certificate{}, "", err
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return tls.Certificate{}, "", err
	}

	key, err := newKey()
	if err != nil {
		return tls.Certificate{}, "", err
	}
	template := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(7 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:     []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, template, caCert, &key.PublicKey, caKey)
	if err != nil {
		return tls.Certificate{}, "", err
	}

	caFile := filepath.Join(dir, "ca.pem")
	if err := ioutil.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o644); err != nil {
		return tls.Certificate{}, "", err
	}
	return tls.Certificate{Certificate: [][]byte{der, caDER}, PrivateKey: key}, caFile, nil
}

func randomUUID() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		log.Fatal(err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func main() {
	model := simulator.VPX()

	listen := flag.String("l", "127.0.0.1:0", "listen address (port 0 picks a free one)")
	user := flag.String("username", "scalearc", "the only login accepted")
	password := flag.String("password", "", "its password (default: $VCSIM_PASSWORD)")
	certDir := flag.String("cert-dir", "", "where to write ca.pem (default: a new temporary directory)")
	stdinEOF := flag.Bool("exit-on-stdin-eof", false, "also stop when stdin closes (for test fixtures)")
	latencyMS := flag.Int("latency-ms", 0, "milliseconds every request waits before it is served")
	flag.StringVar(&vapiFlavour, "vapi", vapiFlavour, "vAPI flavours served: both, api (no /rest) or rest (no /api)")
	flag.IntVar(&model.Datacenter, "dc", model.Datacenter, "datacenters")
	flag.IntVar(&model.Cluster, "cluster", model.Cluster, "clusters per datacenter")
	flag.IntVar(&model.ClusterHost, "host", model.ClusterHost, "hosts per cluster")
	flag.IntVar(&model.Host, "standalone-host", model.Host, "standalone hosts per datacenter")
	flag.IntVar(&model.Machine, "vm", model.Machine, "virtual machines per resource pool")
	flag.IntVar(&model.Pool, "pool", model.Pool, "child resource pools per cluster")
	flag.IntVar(&model.Portgroup, "pg", model.Portgroup, "distributed portgroups per datacenter")
	flag.IntVar(&model.Datastore, "ds", model.Datastore, "datastores")
	flag.Parse()

	if *password == "" {
		*password = os.Getenv("VCSIM_PASSWORD")
	}
	if *password == "" {
		log.Fatal("vcsim: a password is required (-password or $VCSIM_PASSWORD)")
	}
	if !validFlavour(vapiFlavour) || *latencyMS < 0 {
		log.Fatal("vcsim: -vapi must be both, api or rest, and -latency-ms not negative")
	}
	launcherUser = *user
	setLatency(*latencyMS)
	if *certDir == "" {
		dir, err := ioutil.TempDir("", "vcsim-")
		if err != nil {
			log.Fatal(err)
		}
		*certDir = dir
		defer os.RemoveAll(dir)
	}
	cert, caFile, err := writeCertificates(*certDir)
	if err != nil {
		log.Fatalf("vcsim: certificates: %s", err)
	}

	// Every real vCenter has its own instance UUID; vcsim's is a constant, which
	// would make two simulators look like one vCenter.
	model.ServiceContent.About.InstanceUuid = randomUUID()

	// Large inventories: the simulator's VMs need not run anything.
	model.Autostart = false
	if err := model.Create(); err != nil {
		log.Fatalf("vcsim: creating the inventory: %s", err)
	}
	defer model.Remove()

	// Sessions copy the registered PropertyCollector's type: register ours.
	pc := &propertyCollector{}
	pc.Self = model.ServiceContent.PropertyCollector
	simulator.Map.Put(pc)

	model.Service.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	model.Service.RegisterEndpoints = true
	model.Service.Listen = &url.URL{Host: *listen, User: url.UserPassword(*user, *password)}

	server := model.Service.NewServer()
	serveAPI(model.Service.ServeMux)
	// Nothing has connected yet (the address is printed below), so the
	// handler can still be swapped for the recording one.
	server.Config.Handler = &recorder{
		next:    server.Config.Handler,
		secrets: map[string]bool{},
		delays:  map[string]time.Duration{},
		faults:  map[string]methodFault{},
	}

	u := *server.URL
	u.User = nil
	line, _ := json.Marshal(map[string]string{"url": u.String(), "ca_file": caFile, "user": *user})
	fmt.Println(string(line))

	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM)
	if *stdinEOF {
		go func() {
			// A test run that dies without stopping us closes our stdin.
			_, _ = io.Copy(ioutil.Discard, os.Stdin)
			signals <- syscall.SIGTERM
		}()
	}
	<-signals
	server.Close()
}
