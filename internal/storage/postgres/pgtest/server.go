//go:build unix

package pgtest

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// Server is a PostgreSQL server of the test's own, in a temporary
// directory, that the test may stop and start (fault tests). It needs
// PostgreSQL's server programs (initdb, pg_ctl: Debian's postgresql
// package) and skips the test without them.
type Server struct {
	t    testing.TB
	bin  string
	dir  string
	port int
	cred *syscall.Credential // when root: run as the postgres user
}

// StartServer initialises and starts a server; it is stopped and removed
// when the test ends.
func StartServer(t testing.TB) *Server {
	t.Helper()
	bin := serverBin()
	if bin == "" {
		t.Skip("PostgreSQL's server programs are not installed (apt-get install -y postgresql): the fault test runs a server of its own")
	}
	dir, err := os.MkdirTemp("", "shopguard-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	s := &Server{t: t, bin: bin, dir: dir}
	if os.Geteuid() == 0 { // initdb refuses to run as root
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Skip("running as root without a postgres user to run a test server as")
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		s.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.port = l.Addr().(*net.TCPAddr).Port
	l.Close()
	s.run("initdb", "-D", s.data(), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale", "C", "--no-sync")
	s.Start()
	t.Cleanup(func() {
		_ = s.pgctl("stop", "-m", "immediate")
	})
	return s
}

// serverBin finds the directory of initdb and pg_ctl.
func serverBin() string {
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		if d := strings.TrimSpace(string(out)); fileExists(filepath.Join(d, "initdb")) {
			return d
		}
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(matches) == 0 {
		return ""
	}
	return filepath.Dir(matches[len(matches)-1])
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func (s *Server) data() string { return filepath.Join(s.dir, "data") }

// URL is the server's postgres database.
func (s *Server) URL() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", s.port)
}

// Start starts the server and waits until it accepts connections.
func (s *Server) Start() {
	s.t.Helper()
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c shared_buffers=16MB -c max_connections=50", s.port, s.dir)
	if err := s.pgctl("start", "-w", "-t", "60", "-l", filepath.Join(s.dir, "log"), "-o", opts); err != nil {
		log, _ := os.ReadFile(filepath.Join(s.dir, "log"))
		s.t.Fatalf("starting PostgreSQL: %v\n%s", err, log)
	}
}

// Crash stops the server at once, as a crash or kill -9 would (pg_ctl
// stop -m immediate): recovery runs at the next start.
func (s *Server) Crash() {
	s.t.Helper()
	if err := s.pgctl("stop", "-m", "immediate", "-w"); err != nil {
		s.t.Fatalf("stopping PostgreSQL: %v", err)
	}
}

func (s *Server) pgctl(args ...string) error {
	return s.exec("pg_ctl", append([]string{"-D", s.data()}, args...)...)
}

func (s *Server) run(name string, args ...string) {
	s.t.Helper()
	if err := s.exec(name, args...); err != nil {
		s.t.Fatalf("%s: %v", name, err)
	}
}

func (s *Server) exec(name string, args ...string) error {
	cmd := exec.Command(filepath.Join(s.bin, name), args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if s.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
	}
	cmd.Dir = s.dir
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%w: %s", err, strings.TrimSpace(out.String()))
	}
	return nil
}
