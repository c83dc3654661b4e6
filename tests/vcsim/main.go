// Command vcsim starts govmomi's vCenter simulator for scalearc-lint's tests.
//
// It differs from upstream's vcsim in what the tests need: a P-256 certificate
// for 127.0.0.1 signed by a throw-away CA (OpenSSL rejects the simulator's
// built-in RSA-1024 one) written out so clients can verify TLS, a login that
// is actually checked, the vAPI REST endpoints, and a small loopback-only test
// API under /_vcsim/ that records which SOAP methods and REST calls were made
// and can slow down chosen SOAP methods (to kill or disturb an export while it
// runs).
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
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/vmware/govmomi/simulator"
	_ "github.com/vmware/govmomi/vapi/simulator"
)

// recorder wraps the simulator's HTTP handler: it logs every call and applies
// the per-method delays set through /_vcsim/delay.
type recorder struct {
	next http.Handler

	mu      sync.Mutex
	calls   []string
	secrets map[string]bool
	delays  map[string]time.Duration
}

// soapMethod returns the name of the first element inside the SOAP Body.
func soapMethod(body []byte) string {
	d := xml.NewDecoder(bytes.NewReader(body))
	inBody := false
	for {
		tok, err := d.Token()
		if err != nil {
			return "?"
		}
		if se, ok := tok.(xml.StartElement); ok {
			if inBody {
				return se.Name.Local
			}
			inBody = se.Name.Local == "Body"
		}
	}
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/_vcsim/calls":
		rec.serveCalls(w)
		return
	case "/_vcsim/delay":
		rec.serveDelay(w, r)
		return
	}

	var entry string
	var delay time.Duration
	if r.Method == http.MethodPost && r.URL.Path == "/sdk" {
		body, err := ioutil.ReadAll(r.Body)
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		r.Body = ioutil.NopCloser(bytes.NewReader(body))
		method := soapMethod(body)
		entry = "SOAP " + method
		rec.mu.Lock()
		delay = rec.delays[method]
		rec.mu.Unlock()
	} else {
		entry = "HTTP " + r.Method + " " + r.URL.Path
		if action := r.URL.Query().Get("~action"); action != "" {
			entry += "?~action=" + action
		}
	}

	rec.mu.Lock()
	rec.calls = append(rec.calls, entry)
	if c, err := r.Cookie("vmware_soap_session"); err == nil {
		rec.secrets[c.Value] = true
	}
	if id := r.Header.Get("vmware-api-session-id"); id != "" {
		rec.secrets[id] = true
	}
	rec.mu.Unlock()

	if delay > 0 {
		time.Sleep(delay)
	}
	rw := &secretSniffer{ResponseWriter: w, rec: rec}
	rec.next.ServeHTTP(rw, r)
}

// secretSniffer remembers the session cookies and REST session ids the
// server hands out, so tests can check that none of them leaks.
type secretSniffer struct {
	http.ResponseWriter
	rec *recorder
}

func (s *secretSniffer) WriteHeader(code int) {
	for _, c := range (&http.Response{Header: s.Header()}).Cookies() {
		s.rec.mu.Lock()
		s.rec.secrets[c.Value] = true
		s.rec.mu.Unlock()
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *secretSniffer) Write(b []byte) (int, error) {
	// A REST login answers {"value": "<session id>"}; record it too.
	if len(b) < 256 && bytes.Contains(b, []byte(`"value"`)) {
		var v struct {
			Value interface{} `json:"value"`
		}
		if json.Unmarshal(b, &v) == nil {
			if id, ok := v.Value.(string); ok {
				s.rec.mu.Lock()
				s.rec.secrets[id] = true
				s.rec.mu.Unlock()
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

	model.Service.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	model.Service.RegisterEndpoints = true
	model.Service.Listen = &url.URL{Host: *listen, User: url.UserPassword(*user, *password)}

	server := model.Service.NewServer()
	// Nothing has connected yet (the address is printed below), so the
	// handler can still be swapped for the recording one.
	server.Config.Handler = &recorder{
		next:    server.Config.Handler,
		secrets: map[string]bool{},
		delays:  map[string]time.Duration{},
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
