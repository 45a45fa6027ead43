package inbox_test

// The Dovecot harness: one throwaway Dovecot 2.3 per test binary, started
// on first use as a child process the tests own, on free loopback ports,
// with everything under one temporary folder. Each test takes its own mail
// user, so tests never see each other's mail.
//
// The same instance answers on three loopback addresses with different
// capabilities (Dovecot's `local` blocks), so the fallbacks are tested on
// the real server:
//
//	127.0.0.1  everything Dovecot has: IDLE, MOVE, UIDPLUS
//	127.0.0.2  IDLE and UIDPLUS, no MOVE: COPY, STORE \Deleted, UID EXPUNGE
//	127.0.0.3  none of the three: polling, COPY and STORE \Deleted only

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"
)

const installDovecot = "apt-get install -y --no-install-recommends dovecot-core dovecot-imapd"

// Addresses of the three capability profiles.
const (
	hostFull     = "127.0.0.1"
	hostNoMove   = "127.0.0.2"
	hostMinimal  = "127.0.0.3"
	poolOfUsers  = 64
	probeUser    = "probe"
	probePasswd  = "probe-pw"
	userPassword = "pw-"
)

var shared struct {
	once sync.Once
	srv  *dovecotServer
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.srv != nil {
		shared.srv.kill()
		os.RemoveAll(shared.srv.dir)
	}
	os.Exit(code)
}

var errNoDovecot = errors.New("dovecot is not installed")

// needDovecot returns the shared server, starting it on first use. Without
// the dovecot binary the test fails in CI and is skipped elsewhere.
func needDovecot(tb testing.TB) *dovecotServer {
	tb.Helper()
	shared.once.Do(func() { shared.srv, shared.err = startDovecotServer() })
	if errors.Is(shared.err, errNoDovecot) {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("Dovecot is required in CI: %s", installDovecot)
		}
		tb.Skipf("Dovecot is not installed; to run this test: %s", installDovecot)
	}
	if shared.err != nil {
		tb.Fatalf("start Dovecot: %v", shared.err)
	}
	return shared.srv
}

type dovecotServer struct {
	bin, dir, conf string
	port, tlsPort  int
	mailUID        int // -1: files the test writes need no chown
	mailGID        int
	roots          *x509.CertPool

	mu      sync.Mutex
	cmd     *exec.Cmd
	exited  chan struct{}
	claimed atomic.Int32
}

// mailUser is one test's account on the shared server.
type mailUser struct {
	srv      *dovecotServer
	Name     string
	Password string
	Home     string
}

func findDovecot() (string, error) {
	if p, err := exec.LookPath("dovecot"); err == nil {
		return p, nil
	}
	for _, p := range []string{"/usr/sbin/dovecot", "/usr/local/sbin/dovecot"} {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", errNoDovecot
}

func startDovecotServer() (*dovecotServer, error) {
	bin, err := findDovecot()
	if err != nil {
		return nil, err
	}
	// Not t.TempDir: that is 0700, and Dovecot's login processes, which
	// never run as root, must reach the sockets under base_dir.
	dir, err := os.MkdirTemp("", "notme-dovecot-")
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, err
	}
	d := &dovecotServer{bin: bin, dir: dir, conf: filepath.Join(dir, "dovecot.conf"), mailUID: -1, mailGID: -1}
	if err := d.writeConfig(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := d.start(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return d, nil
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// writeConfig writes a Dovecot 2.3 config as IMAP-NOTES.md describes it.
func (d *dovecotServer) writeConfig() error {
	var err error
	if d.port, err = freePort(); err != nil {
		return err
	}
	if d.tlsPort, err = freePort(); err != nil {
		return err
	}
	me, err := user.Current()
	if err != nil {
		return err
	}
	grp, err := user.LookupGroupId(me.Gid)
	if err != nil {
		return err
	}
	internalUser, internalGroup, loginUser := me.Username, grp.Name, me.Username
	mailUID, mailGID := me.Uid, me.Gid
	if os.Getuid() == 0 {
		// Dovecot runs neither its login processes nor mail access as
		// root: borrow unprivileged system users for those.
		loginUser = "nobody"
		if _, err := user.Lookup("dovenull"); err == nil {
			loginUser = "dovenull"
		}
		nobody, err := user.Lookup("nobody")
		if err != nil {
			return fmt.Errorf("running as root needs the user nobody: %w", err)
		}
		mailUID, mailGID = nobody.Uid, nobody.Gid
		d.mailUID, _ = strconv.Atoi(nobody.Uid)
		d.mailGID, _ = strconv.Atoi(nobody.Gid)
	}
	for _, sub := range []string{"base", "state", "home"} {
		if err := os.MkdirAll(filepath.Join(d.dir, sub), 0o755); err != nil {
			return err
		}
	}
	if err := d.writeCerts(); err != nil {
		return err
	}
	var pw strings.Builder
	fmt.Fprintf(&pw, "%s:{PLAIN}%s\n", probeUser, probePasswd)
	for i := 1; i <= poolOfUsers; i++ {
		name := fmt.Sprintf("u%02d", i)
		fmt.Fprintf(&pw, "%s:{PLAIN}%s%s\n", name, userPassword, name)
	}
	if err := os.WriteFile(filepath.Join(d.dir, "passwd"), []byte(pw.String()), 0o644); err != nil {
		return err
	}
	hosts := strings.Join([]string{hostFull, hostNoMove, hostMinimal}, ", ")
	conf := fmt.Sprintf(`# notme test server: throwaway, loopback only
protocols = imap
instance_name = notme-test
base_dir = %[1]s/base
state_dir = %[1]s/state
log_path = %[1]s/dovecot.log
default_internal_user = %[2]s
default_internal_group = %[3]s
default_login_user = %[4]s
first_valid_uid = 1
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:~/Maildir
mail_max_userip_connections = 1000
# Tests need no durability against power loss; a killed process loses nothing.
mail_fsync = never
ssl = yes
ssl_cert = <%[1]s/cert.pem
ssl_key = <%[1]s/key.pem
ssl_min_protocol = TLSv1.2
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%%u %[1]s/passwd
}
userdb {
  driver = static
  args = uid=%[5]s gid=%[6]s home=%[1]s/home/%%u
}
service imap-login {
  chroot =
  inet_listener imap {
    address = %[7]s
    port = %[8]d
  }
  inet_listener imaps {
    address = %[7]s
    port = %[9]d
    ssl = yes
  }
}
service anvil {
  chroot =
}
local %[10]s {
  protocol imap {
    imap_capability = IMAP4rev1 SASL-IR ID ENABLE IDLE LITERAL+ NAMESPACE UIDPLUS
  }
}
local %[11]s {
  protocol imap {
    imap_capability = IMAP4rev1 SASL-IR ID ENABLE LITERAL+ NAMESPACE
  }
}
`, d.dir, internalUser, internalGroup, loginUser, mailUID, mailGID, hosts, d.port, d.tlsPort, hostNoMove, hostMinimal)
	return os.WriteFile(d.conf, []byte(conf), 0o644)
}

// writeCerts makes a private CA and a server certificate for the loopback
// addresses; clients trust the CA through MailboxConfig.TLSConfig.
func (d *dovecotServer) writeCerts() error {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "notme test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return err
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:    []string{"localhost"},
		IPAddresses: []net.IP{net.ParseIP(hostFull), net.ParseIP(hostNoMove), net.ParseIP(hostMinimal)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	certPEM := append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})...)
	if err := os.WriteFile(filepath.Join(d.dir, "cert.pem"), certPEM, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(d.dir, "key.pem"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return err
	}
	d.roots = x509.NewCertPool()
	d.roots.AddCert(ca)
	return nil
}

// start runs `dovecot -F` in its own process group and waits until a LOGIN
// succeeds: an open port alone does not mean Dovecot can serve.
func (d *dovecotServer) start() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	out, err := os.OpenFile(filepath.Join(d.dir, "dovecot.out"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	// Dovecot keeps the stderr it was started with; a file, never a pipe.
	cmd := exec.Command(d.bin, "-F", "-c", d.conf)
	cmd.Stdout, cmd.Stderr = out, out
	// Its own process group, so that kill reaches every Dovecot process;
	// and killed with the test binary should that die without cleanup.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		out.Close()
		return fmt.Errorf("start %s: %w", d.bin, err)
	}
	out.Close()
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	d.cmd, d.exited = cmd, exited

	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := imapclient.DialInsecure(net.JoinHostPort(hostFull, strconv.Itoa(d.port)), nil)
		if err == nil {
			err = c.Login(probeUser, probePasswd).Wait()
			c.Close()
			if err == nil {
				return nil
			}
		}
		select {
		case <-exited:
			return fmt.Errorf("dovecot exited at start: %s", d.logTail())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			d.killLocked()
			return fmt.Errorf("dovecot did not accept a login within 15s (%v): %s", err, d.logTail())
		}
	}
}

// kill ends the whole process group with SIGKILL, as a crash would, and
// waits for the master.
func (d *dovecotServer) kill() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.killLocked()
}

func (d *dovecotServer) killLocked() {
	if d.cmd == nil {
		return
	}
	syscall.Kill(-d.cmd.Process.Pid, syscall.SIGKILL)
	<-d.exited
	d.cmd = nil
}

// restart starts Dovecot again on the same folders and ports.
func (d *dovecotServer) restart(tb testing.TB) {
	tb.Helper()
	if err := d.start(); err != nil {
		tb.Fatalf("restart Dovecot: %v", err)
	}
}

func (d *dovecotServer) logTail() string {
	b, _ := os.ReadFile(filepath.Join(d.dir, "dovecot.log"))
	o, _ := os.ReadFile(filepath.Join(d.dir, "dovecot.out"))
	b = append(b, o...)
	if len(b) > 3000 {
		b = b[len(b)-3000:]
	}
	return string(b)
}

// newUser hands the test an account of its own, with an empty Maildir.
func (d *dovecotServer) newUser(tb testing.TB) *mailUser {
	tb.Helper()
	n := d.claimed.Add(1)
	if n > poolOfUsers {
		tb.Fatalf("the Dovecot harness has only %d users; raise poolOfUsers", poolOfUsers)
	}
	name := fmt.Sprintf("u%02d", n)
	u := &mailUser{srv: d, Name: name, Password: userPassword + name, Home: filepath.Join(d.dir, "home", name)}
	for _, sub := range []string{"", "Maildir", "Maildir/cur", "Maildir/new", "Maildir/tmp"} {
		p := filepath.Join(u.Home, sub)
		if err := os.MkdirAll(p, 0o700); err != nil {
			tb.Fatal(err)
		}
		d.chown(tb, p)
	}
	return u
}

func (d *dovecotServer) chown(tb testing.TB, path string) {
	if d.mailUID < 0 {
		return
	}
	if err := os.Chown(path, d.mailUID, d.mailGID); err != nil {
		tb.Fatal(err)
	}
}

// addr is the host:port of a capability profile, with or without TLS.
func (d *dovecotServer) addr(host string, implicitTLS bool) string {
	port := d.port
	if implicitTLS {
		port = d.tlsPort
	}
	return net.JoinHostPort(host, strconv.Itoa(port))
}

func (d *dovecotServer) tlsConfig() *tls.Config {
	return &tls.Config{RootCAs: d.roots, MinVersion: tls.VersionTLS12}
}

var maildirSeq atomic.Int64

// deliver writes mails straight into a Maildir folder ("" is INBOX), as an
// MDA would: fast enough to load thousands of mails in a blink. deleted
// sets the \Deleted flag (Maildir's "T").
func (u *mailUser) deliver(tb testing.TB, folder string, deleted bool, mails ...[]byte) {
	tb.Helper()
	dir := filepath.Join(u.Home, "Maildir")
	if folder != "" {
		dir = filepath.Join(dir, "."+folder)
		for _, sub := range []string{"", "cur", "new", "tmp"} {
			if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
				tb.Fatal(err)
			}
			u.srv.chown(tb, filepath.Join(dir, sub))
		}
	}
	flags := ""
	if deleted {
		flags = "T"
	}
	now := time.Now().Unix()
	for _, m := range mails {
		// S= and W= (size with CRLF line ends) spare Dovecot reading the
		// file to answer RFC822.SIZE.
		w := len(m) + bytes.Count(m, []byte("\n")) - bytes.Count(m, []byte("\r\n"))
		name := fmt.Sprintf("%d.M%dP%d.notme,S=%d,W=%d:2,%s", now, maildirSeq.Add(1), os.Getpid(), len(m), w, flags)
		p := filepath.Join(dir, "cur", name)
		if err := os.WriteFile(p, m, 0o600); err != nil {
			tb.Fatal(err)
		}
		u.srv.chown(tb, p)
	}
}

// client is a plain IMAP connection as this user, closed at cleanup.
func (u *mailUser) client(tb testing.TB) *imapclient.Client {
	tb.Helper()
	c, err := imapclient.DialInsecure(u.srv.addr(hostFull, false), nil)
	if err != nil {
		tb.Fatalf("dial Dovecot: %v", err)
	}
	if err := c.Login(u.Name, u.Password).Wait(); err != nil {
		c.Close()
		tb.Fatalf("login as %s: %v", u.Name, err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}
