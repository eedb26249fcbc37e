package headers

// The capture that made this folder's *.txt files: a TLS server (h2 and
// http/1.1, a throwaway CA) and a plain HTTP server on 127.0.0.1 record
// the header set of every request that real clients send them and, for
// HTTP/1.x (served by http1, as the gateway does), the order of its
// fields (the "# order=" line). It only runs when asked, because it
// starts browsers:
//
//	SHOPGUARD_CAPTURE_HEADERS=1 go test -count=1 -v -timeout 10m ./internal/gateway/testdata/headers
//
// It needs chromium, firefox-esr and libnss3-tools (certutil) from Debian,
// curl, wget, python3 (with requests) and Go; a client that is missing is
// skipped and named. It rewrites the *.txt files it captures.

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/shopguard/shopguard/internal/http1"
)

// The user agents tools put on to pass for a browser: Chromium 156's own,
// as a headed Chromium on Linux sends it, and Firefox ESR 153's, as
// captured here; Safari's is the published macOS form.
const (
	uaChrome  = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36"
	uaFirefox = "Mozilla/5.0 (X11; Linux x86_64; rv:153.0) Gecko/20100101 Firefox/153.0"
	uaSafari  = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15"
)

// Stable stand-ins for the servers' random ports in the files.
const (
	tlsPortName   = "8443"
	plainPortName = "8080"
)

// kinds names each path the page makes a browser request.
var kinds = map[string]string{
	"/nav":         "navigation",
	"/s.js":        "script",
	"/c.css":       "style",
	"/img.png":     "image",
	"/favicon.ico": "favicon",
	"/frame":       "iframe",
	"/form":        "form-post",
	"/fetch":       "fetch",
	"/post":        "fetch-post",
	"/xhr":         "xhr",
	"/cors":        "cors",
	"/beacon":      "beacon",
	"/ws":          "websocket",
	"/media":       "media",
	"/tool":        "tool",
}

// page is the document a browser navigates to; %[1]s is the cross-origin
// base (the other loopback name) and %[2]s the WebSocket base.
const page = `<!doctype html>
<html><head><title>capture</title><link rel="stylesheet" href="/c.css"><script src="/s.js"></script></head>
<body><img src="/img.png"><iframe src="/frame"></iframe><iframe name="sink"></iframe>
<form id="f" method="post" action="/form" target="sink"><input name="q" value="1"></form>
<video src="/media" preload="auto" muted></video>
<script>
(async () => {
  const quiet = p => p.catch(() => {});
  await new Promise(r => setTimeout(r, 300));
  document.getElementById('f').submit();
  await quiet(fetch('/fetch'));
  await quiet(fetch('/post', {method: 'POST', headers: {'Content-Type': 'application/json'}, body: '{}'}));
  await quiet(fetch('%[1]s/cors', {method: 'PUT', headers: {'X-Test': '1'}, body: 'x'}));
  await new Promise(r => { const x = new XMLHttpRequest(); x.open('GET', '/xhr'); x.onloadend = r; x.send(); });
  navigator.sendBeacon('/beacon', 'x');
  await new Promise(r => { try { const ws = new WebSocket('%[2]s/ws'); ws.onerror = ws.onclose = r; } catch (e) { r(); } setTimeout(r, 1500); });
  await new Promise(r => setTimeout(r, 700));
  await quiet(fetch('/done'));
})();
</script></body></html>`

// seen is one recorded request.
type seen struct {
	run, proto, method, host, path string
	tls                            bool
	header                         http.Header
	order                          []string // the names as sent, over HTTP/1.x (nil: not known, h2)
}

// recorder keeps what the servers saw, labelled with the client running.
type recorder struct {
	mu   sync.Mutex
	run  string
	reqs []seen
	done chan struct{}
}

func (rec *recorder) start(run string) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	rec.run, rec.done = run, make(chan struct{}, 1)
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec.mu.Lock()
	rec.reqs = append(rec.reqs, seen{run: rec.run, proto: r.Proto, method: r.Method, host: r.Host, path: r.URL.Path, tls: r.TLS != nil,
		header: r.Header.Clone(), order: slices.Clone(http1.HeaderOrder(r))})
	done := rec.done
	rec.mu.Unlock()
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.Header().Set("Access-Control-Allow-Headers", "X-Test, Content-Type")
	w.Header().Set("Access-Control-Allow-Methods", "GET, POST, PUT")
	w.Header().Set("Cache-Control", "no-store")
	switch r.URL.Path {
	case "/nav":
		other, scheme := "localhost", "http"
		if strings.HasPrefix(r.Host, "localhost") {
			other = "127.0.0.1"
		}
		if r.TLS != nil {
			scheme = "https"
		}
		_, port, _ := net.SplitHostPort(r.Host)
		ws := "ws"
		if r.TLS != nil {
			ws = "wss"
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, page, scheme+"://"+other+":"+port, ws+"://"+r.Host)
	case "/frame":
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, "<!doctype html><p>frame</p>")
	case "/s.js":
		w.Header().Set("Content-Type", "text/javascript")
		fmt.Fprint(w, "window.s = 1;")
	case "/c.css":
		w.Header().Set("Content-Type", "text/css")
		fmt.Fprint(w, "p { color: black; }")
	case "/img.png", "/favicon.ico":
		w.Header().Set("Content-Type", "image/png")
		_, _ = w.Write(onePixelPNG)
	case "/done":
		select {
		case done <- struct{}{}:
		default:
		}
		w.WriteHeader(http.StatusNoContent)
	case "/media", "/ws":
		http.NotFound(w, r)
	default:
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, "{}")
	}
}

var onePixelPNG = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")

// pki makes a throwaway CA and a leaf for 127.0.0.1, localhost and
// shop.test (a name that is not localhost), writing the CA's PEM to dir.
func pki(t *testing.T, dir string) (tls.Certificate, *x509.CertPool, string) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "shopguard capture CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leafTmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "shop.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		DNSNames: []string{"localhost", "shop.test"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{leafDER, caDER}, PrivateKey: key}, pool, caFile
}

// command is one client to run: argv, or fn for the in-process Go client.
type command struct {
	run  string // file name stem: family-client-variant
	name string // client and version for the files' first line
	argv []string
	fn   func() error
	// browser runs until the page reports it is done, then is stopped.
	browser bool
}

func TestCapture(t *testing.T) {
	if os.Getenv("SHOPGUARD_CAPTURE_HEADERS") != "1" {
		t.Skip("set SHOPGUARD_CAPTURE_HEADERS=1 to capture real clients' headers (starts browsers)")
	}
	tmp := t.TempDir()
	cert, pool, caFile := pki(t, tmp)
	rec := &recorder{}

	tlsLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	plainLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tlsSrv := &http.Server{Handler: rec, ReadHeaderTimeout: 10 * time.Second,
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"h2", "http/1.1"}}}
	// HTTP/1.x is served as the gateway serves it, by http1, which keeps
	// each request's header order; TLS connections that negotiate h2 go
	// to net/http.
	h1tls := &http1.Server{Handler: rec, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 30 * time.Second, HTTP2: tlsSrv}
	plainSrv := &http1.Server{Handler: rec, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 30 * time.Second}
	go func() { _ = h1tls.Serve(tls.NewListener(tlsLn, tlsSrv.TLSConfig)) }()
	go func() { _ = plainSrv.Serve(plainLn) }()
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = h1tls.Shutdown(ctx)
		_ = plainSrv.Shutdown(ctx)
	}()
	tlsPort := fmt.Sprint(tlsLn.Addr().(*net.TCPAddr).Port)
	plainPort := fmt.Sprint(plainLn.Addr().(*net.TCPAddr).Port)
	https, plain := "https://127.0.0.1:"+tlsPort, "http://127.0.0.1:"+plainPort

	var cmds []command
	if exe, err := exec.LookPath("chromium"); err == nil {
		name := "Chromium " + strings.Fields(version(t, exe, "--version"))[0]
		for _, c := range []struct{ variant, url string }{
			{"h2-ip", https + "/nav"},
			{"h2-name", "https://shop.test:" + tlsPort + "/nav"},
			{"h1tls-name", "https://shop.test:" + tlsPort + "/nav"},
			{"http-ip", plain + "/nav"},
			{"http-name", "http://shop.test:" + plainPort + "/nav"},
		} {
			profile := filepath.Join(tmp, "chromium-"+c.variant)
			argv := []string{exe, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
				"--disable-background-networking", "--disable-component-update", "--disable-sync",
				"--ignore-certificate-errors", "--user-data-dir=" + profile,
				"--host-resolver-rules=MAP shop.test 127.0.0.1"}
			if c.variant == "h1tls-name" {
				argv = append(argv, "--disable-http2")
			}
			cmds = append(cmds, command{run: "browser-chromium-" + c.variant, name: name, argv: append(argv, c.url), browser: true})
		}
	} else {
		t.Log("no chromium: apt-get install -y chromium")
	}
	if exe, err := exec.LookPath("firefox-esr"); err == nil {
		name := "Firefox ESR " + strings.TrimPrefix(version(t, exe, "--version"), "Mozilla Firefox ")
		for _, c := range []struct{ variant, url string }{
			{"h2-ip", https + "/nav"},
			{"h2-name", "https://shop.test:" + tlsPort + "/nav"},
			{"http-ip", plain + "/nav"},
			{"http-name", "http://shop.test:" + plainPort + "/nav"},
		} {
			profile := firefoxProfile(t, tmp, "firefox-"+c.variant, caFile)
			cmds = append(cmds, command{run: "browser-firefox-" + c.variant, name: name, browser: true,
				argv: []string{exe, "--headless", "--no-remote", "--profile", profile, c.url}})
		}
	} else {
		t.Log("no firefox-esr: apt-get install -y firefox-esr")
	}
	if exe, err := exec.LookPath("curl"); err == nil {
		name := "curl " + strings.Fields(version(t, exe, "--version"))[1]
		cmds = append(cmds,
			command{run: "tool-curl-h2", name: name, argv: []string{exe, "-sk", "--http2", "-o", "/dev/null", https + "/tool"}},
			command{run: "tool-curl-http", name: name, argv: []string{exe, "-s", "-o", "/dev/null", plain + "/tool"}},
			command{run: "tool-curl-chromeua-h2", name: name, argv: []string{exe, "-sk", "--http2", "-o", "/dev/null", "-A", uaChrome, https + "/tool"}},
			command{run: "tool-curl-chromeua-http", name: name, argv: []string{exe, "-s", "-o", "/dev/null", "-A", uaChrome, plain + "/tool"}},
			command{run: "tool-curl-firefoxua-h2", name: name, argv: []string{exe, "-sk", "--http2", "-o", "/dev/null", "-A", uaFirefox, https + "/tool"}},
			// A careful impostor: a browser's Accept, Accept-Language and
			// compression, but no fetch metadata.
			command{run: "tool-curl-chromeheaders-h2", name: name, argv: []string{exe, "-sk", "--http2", "-o", "/dev/null", "--compressed", "-A", uaChrome,
				"-H", "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8",
				"-H", "Accept-Language: en-US,en;q=0.9", https + "/tool"}},
			// The same over plain HTTP, where browsers send no fetch
			// metadata either: only the header order gives it away.
			command{run: "tool-curl-chromeheaders-http", name: name, argv: []string{exe, "-s", "-o", "/dev/null", "--compressed", "-A", uaChrome,
				"-H", "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8",
				"-H", "Accept-Language: en-US,en;q=0.9", plain + "/tool"}},
			command{run: "tool-curl-firefoxheaders-http", name: name, argv: []string{exe, "-s", "-o", "/dev/null", "--compressed", "-A", uaFirefox,
				"-H", "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
				"-H", "Accept-Language: en-US,en;q=0.5", plain + "/tool"}},
		)
	}
	if exe, err := exec.LookPath("wget"); err == nil {
		name := "Wget " + strings.Fields(version(t, exe, "--version"))[2]
		cmds = append(cmds,
			command{run: "tool-wget-h1tls", name: name, argv: []string{exe, "-q", "--no-check-certificate", "-O", "/dev/null", https + "/tool"}},
			command{run: "tool-wget-chromeua-h1tls", name: name, argv: []string{exe, "-q", "--no-check-certificate", "-O", "/dev/null", "-U", uaChrome, https + "/tool"}},
			command{run: "tool-wget-chromeua-http", name: name, argv: []string{exe, "-q", "-O", "/dev/null", "-U", uaChrome, plain + "/tool"}},
		)
	}
	if exe, err := exec.LookPath("python3"); err == nil {
		name := strings.TrimSpace(version(t, exe, "--version"))
		urllib := func(url, ua string) []string {
			hdr := "{}"
			if ua != "" {
				hdr = fmt.Sprintf("{'User-Agent': %q}", ua)
			}
			return []string{exe, "-c", fmt.Sprintf("import ssl, urllib.request as u; u.urlopen(u.Request(%q, headers=%s), context=ssl._create_unverified_context()).read()", url, hdr)}
		}
		cmds = append(cmds,
			command{run: "tool-urllib-h1tls", name: name + " urllib", argv: urllib(https+"/tool", "")},
			command{run: "tool-urllib-chromeua-h1tls", name: name + " urllib", argv: urllib(https+"/tool", uaChrome)},
			command{run: "tool-urllib-safariua-http", name: name + " urllib", argv: urllib(plain+"/tool", uaSafari)},
		)
		if v, err := exec.Command(exe, "-c", "import requests; print(requests.__version__)").Output(); err == nil {
			name := name + " requests " + strings.TrimSpace(string(v))
			requests := func(url, ua string) []string {
				hdr := "{}"
				if ua != "" {
					hdr = fmt.Sprintf("{'User-Agent': %q}", ua)
				}
				return []string{exe, "-c", fmt.Sprintf("import warnings, requests; warnings.simplefilter('ignore'); requests.get(%q, headers=%s, verify=False)", url, hdr)}
			}
			cmds = append(cmds,
				command{run: "tool-requests-h1tls", name: name, argv: requests(https+"/tool", "")},
				command{run: "tool-requests-chromeua-h1tls", name: name, argv: requests(https+"/tool", uaChrome)},
				command{run: "tool-requests-firefoxua-h1tls", name: name, argv: requests(https+"/tool", uaFirefox)},
				command{run: "tool-requests-safariua-h1tls", name: name, argv: requests(https+"/tool", uaSafari)},
				command{run: "tool-requests-chromeua-http", name: name, argv: requests(plain+"/tool", uaChrome)},
			)
		} else {
			t.Log("no python requests")
		}
	}
	goClient := func(url, ua string) func() error {
		return func() error {
			c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{ForceAttemptHTTP2: true, TLSClientConfig: &tls.Config{RootCAs: pool}}}
			defer c.CloseIdleConnections()
			req, err := http.NewRequest(http.MethodGet, url, nil)
			if err != nil {
				return err
			}
			if ua != "" {
				req.Header.Set("User-Agent", ua)
			}
			resp, err := c.Do(req)
			if err != nil {
				return err
			}
			return resp.Body.Close()
		}
	}
	goName := "Go net/http " + runtime.Version()
	cmds = append(cmds,
		command{run: "tool-go-h2", name: goName, fn: goClient(https+"/tool", "")},
		command{run: "tool-go-http", name: goName, fn: goClient(plain+"/tool", "")},
		command{run: "tool-go-chromeua-h2", name: goName, fn: goClient(https+"/tool", uaChrome)},
		command{run: "tool-go-safariua-h2", name: goName, fn: goClient(https+"/tool", uaSafari)},
		command{run: "tool-go-chromeua-http", name: goName, fn: goClient(plain+"/tool", uaChrome)},
	)

	names := map[string]string{}
	for _, c := range cmds {
		names[c.run] = c.name
		rec.start(c.run)
		if err := runOne(t, c, rec); err != nil {
			t.Errorf("%s: %v", c.run, err)
		}
	}
	rec.start("")

	// Write one file per run and request kind (the first of each), with
	// the servers' ports replaced by stable stand-ins.
	old, _ := filepath.Glob("*.txt")
	for _, f := range old {
		_ = os.Remove(f)
	}
	ports := strings.NewReplacer(":"+tlsPort, ":"+tlsPortName, ":"+plainPort, ":"+plainPortName)
	written := map[string]bool{}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for _, s := range rec.reqs {
		kind, ok := kinds[s.path]
		if s.run == "" || !ok {
			continue
		}
		if s.method == http.MethodOptions {
			kind += "-preflight"
		}
		file := s.run + "-" + kind + ".txt"
		if written[file] {
			continue
		}
		written[file] = true
		scheme := "http"
		if s.tls {
			scheme = "https"
		}
		var b strings.Builder
		fmt.Fprintf(&b, "# client=%s | proto=%s | url=%s://%s%s | method=%s | request=%s\n",
			names[s.run], s.proto, scheme, ports.Replace(s.host), s.path, s.method, kind)
		if s.order != nil {
			fmt.Fprintf(&b, "# order=%s\n", strings.Join(s.order, ", "))
		}
		keys := make([]string, 0, len(s.header))
		for k := range s.header {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			for _, v := range s.header[k] {
				fmt.Fprintf(&b, "%s: %s\n", k, ports.Replace(v))
			}
		}
		if err := os.WriteFile(file, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%d files written from %d requests", len(written), len(rec.reqs))
}

// runOne runs a client; a browser is stopped (its process group, by id)
// once its page has fetched /done, or after 30 s.
func runOne(t *testing.T, c command, rec *recorder) error {
	if c.fn != nil {
		return c.fn()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.argv[0], c.argv[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if !c.browser {
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("%w: %s", err, out)
		}
		return nil
	}
	cmd.Stdout, cmd.Stderr = nil, nil
	if err := cmd.Start(); err != nil {
		return err
	}
	rec.mu.Lock()
	done := rec.done
	rec.mu.Unlock()
	var err error
	select {
	case <-done:
		time.Sleep(time.Second) // late favicon and beacon requests
	case <-time.After(30 * time.Second):
		err = fmt.Errorf("page never reported done")
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
	waited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-waited
	}
	t.Logf("%s: ran", c.run)
	return err
}

// firefoxProfile makes a fresh Firefox profile that trusts the CA,
// resolves every name to 127.0.0.1 and calls nowhere else by itself.
func firefoxProfile(t *testing.T, tmp, name, caFile string) string {
	t.Helper()
	dir := filepath.Join(tmp, name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("certutil", "-N", "-d", "sql:"+dir, "--empty-password").CombinedOutput(); err != nil {
		t.Fatalf("certutil -N: %v %s", err, out)
	}
	if out, err := exec.Command("certutil", "-A", "-d", "sql:"+dir, "-n", "shopguard-capture", "-t", "C,,", "-i", caFile).CombinedOutput(); err != nil {
		t.Fatalf("certutil -A: %v %s", err, out)
	}
	prefs := []string{
		`user_pref("network.dns.forceResolve", "127.0.0.1");`,
		`user_pref("network.captive-portal-service.enabled", false);`,
		`user_pref("network.connectivity-service.enabled", false);`,
		`user_pref("app.update.auto", false);`,
		`user_pref("app.update.enabled", false);`,
		`user_pref("browser.shell.checkDefaultBrowser", false);`,
		`user_pref("browser.startup.homepage_override.mstone", "ignore");`,
		`user_pref("datareporting.policy.dataSubmissionEnabled", false);`,
		`user_pref("toolkit.telemetry.reportingpolicy.firstRun", false);`,
		`user_pref("browser.safebrowsing.malware.enabled", false);`,
		`user_pref("browser.safebrowsing.phishing.enabled", false);`,
		`user_pref("extensions.update.enabled", false);`,
		`user_pref("network.proxy.type", 0);`,
	}
	if err := os.WriteFile(filepath.Join(dir, "user.js"), []byte(strings.Join(prefs, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

// version returns the first line a program prints for its version flag.
func version(t *testing.T, exe, flag string) string {
	t.Helper()
	out, err := exec.Command(exe, flag).Output()
	if err != nil {
		t.Fatalf("%s %s: %v", exe, flag, err)
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return strings.TrimSpace(strings.TrimPrefix(line, "Chromium "))
}
