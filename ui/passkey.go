package ui

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/labstack/echo/v4"

	"notme/cases"
)

// Passkeys (WebAuthn Level 3, with go-webauthn): the ceremonies' options
// and the checks of the browser's answers are here; what they decide,
// and the state between the two halves of a ceremony, is cases'. The
// relying party is the desk at http.public_url: its host is the RP ID
// (a passkey made there works only there, and a phishing site at another
// address cannot use it), and its origin the only one accepted.

// errPasskeyNoDomain: WebAuthn needs the relying party at a domain name
// (localhost included), never an IP address (WebAuthn §5.1.3 via the
// HTML spec's "valid domain"); a desk at one has no passkeys.
var errPasskeyNoDomain = errors.New("passkeys need http.public_url at a domain name, not an IP address")

// passkeyRP is the desk as a WebAuthn relying party, or why there is
// none, as New made it once.
func (s *Server) passkeyRP() (*webauthn.WebAuthn, error) { return s.rp, s.rpErr }

// newPasskeyRP is the desk at publicURL as a WebAuthn relying party, or
// why there is none: passkeys turned off, or no domain name to bind them
// to.
func newPasskeyRP(enabled bool, publicURL string) (*webauthn.WebAuthn, error) {
	if !enabled {
		return nil, cases.ErrPasskeysOff
	}
	u, err := url.Parse(publicURL)
	if err != nil || u.Hostname() == "" || net.ParseIP(u.Hostname()) != nil {
		return nil, errPasskeyNoDomain
	}
	w, err := webauthn.New(&webauthn.Config{
		RPID:          u.Hostname(),
		RPDisplayName: "notme",
		RPOrigins:     []string{u.Scheme + "://" + u.Host},
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errPasskeyNoDomain, err)
	}
	return w, nil
}

// passkeysUsable: the pages offer passkeys.
func (s *Server) passkeysUsable() bool {
	_, err := s.passkeyRP()
	return err == nil
}

// connectSelfCSP is the strict policy of every page (securityHeaders)
// with connect-src 'self' added, for the pages whose script posts JSON to
// the desk, and to nowhere else: passkey.js (each ceremony) and the demo
// sign-up form (the address guard).
const connectSelfCSP = "default-src 'none'; style-src 'self'; img-src 'self' data:; script-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// passkeyPage gives the pages that load passkey.js their policy.
func passkeyPage(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header().Set("Content-Security-Policy", connectSelfCSP)
		return next(c)
	}
}

// passkeyUser is a person as go-webauthn asks for them.
type passkeyUser struct{ o cases.PasskeyOwner }

func (u passkeyUser) WebAuthnID() []byte          { return u.o.Handle }
func (u passkeyUser) WebAuthnName() string        { return u.o.Email }
func (u passkeyUser) WebAuthnDisplayName() string { return u.o.Email }
func (u passkeyUser) WebAuthnCredentials() []webauthn.Credential {
	out := make([]webauthn.Credential, len(u.o.Credentials))
	for i, c := range u.o.Credentials {
		out[i] = webauthn.Credential{ID: c.ID, PublicKey: c.PublicKey, AttestationFormat: c.AttestationFormat,
			Flags:         webauthn.NewCredentialFlags(protocol.AuthenticatorFlags(c.Flags)),
			Authenticator: webauthn.Authenticator{AAGUID: c.AAGUID, SignCount: c.SignCount}}
		for _, t := range c.Transports {
			out[i].Transport = append(out[i].Transport, protocol.AuthenticatorTransport(t))
		}
	}
	return out
}

// passkeyStart is the answer that begins a ceremony: the options for
// navigator.credentials and the handle of the state the desk kept.
type passkeyStart struct {
	Handle    string `json:"handle"`
	PublicKey any    `json:"publicKey"`
}

// passkeyAnswer is the browser's answer: the handle it was given, the
// credential as PublicKeyCredential.toJSON() has it, and for a new
// passkey its name and the page to go to.
type passkeyAnswer struct {
	Handle     string          `json:"handle"`
	Name       string          `json:"name"`
	Password   string          `json:"password"`
	Next       string          `json:"next"`
	Credential json.RawMessage `json:"credential"`
}

type passkeyDone struct {
	Next string `json:"next"`
}

type passkeyError struct {
	Error string `json:"error"`
}

// ceremonyState reads back the state a ceremony's first half kept.
func ceremonyState(state []byte) (webauthn.SessionData, error) {
	var sd webauthn.SessionData
	if err := json.Unmarshal(state, &sd); err != nil {
		return sd, fmt.Errorf("read the ceremony state: %w", err)
	}
	return sd, nil
}

func readPasskeyAnswer(c echo.Context) (passkeyAnswer, error) {
	var a passkeyAnswer
	if err := json.NewDecoder(http.MaxBytesReader(c.Response(), c.Request().Body, 64<<10)).Decode(&a); err != nil {
		return a, cases.Errorf(cases.EINVALID, "bad passkey answer")
	}
	return a, nil
}

// passkeyFailed answers a script's request with words from the catalog.
func (s *Server) passkeyFailed(c echo.Context, err error) error {
	lang := s.pageLang(c)
	status, key := http.StatusUnauthorized, "passkey.failed"
	var args []any
	if lock, ok := cases.IsLoginLocked(err); ok {
		wait := max(lock.Until.Sub(s.svc.Now()), time.Second)
		c.Response().Header().Set("Retry-After", strconv.Itoa(int((wait+time.Second-1)/time.Second)))
		status, key, args = http.StatusTooManyRequests, "login.locked", []any{lockedUntilText(lock.Until)}
	} else {
		switch {
		case errors.Is(err, cases.ErrPasskeyCounter):
			key = "passkey.counter"
		case errors.Is(err, cases.ErrWrongPassword):
			status, key = http.StatusUnprocessableEntity, "2fa.password.wrong"
		case errors.Is(err, cases.ErrNoPassword):
			status, key = http.StatusForbidden, "2fa.password.sso"
		case errors.Is(err, cases.ErrPasskeysOff):
			status, key = http.StatusNotFound, "passkey.off"
		case errors.Is(err, errPasskeyNoDomain):
			status, key = http.StatusNotFound, "passkey.nodomain"
		case errors.Is(err, cases.ErrPasswordLoginOff):
			status, key = http.StatusForbidden, "login.passwordoff"
		case errors.Is(err, cases.ErrPasskeyFailed):
		case cases.ErrorCode(err) == cases.EUNAUTHORIZED:
			key = "2fa.login.expired"
		default:
			// The domain's own words (a name too long, too many passkeys).
			code, ok := map[cases.Code]int{cases.EINVALID: http.StatusUnprocessableEntity, cases.ECONFLICT: http.StatusConflict,
				cases.ENOTFOUND: http.StatusNotFound, cases.EFORBIDDEN: http.StatusForbidden}[cases.ErrorCode(err)]
			if !ok {
				return err
			}
			return c.JSON(code, passkeyError{Error: domainError(lang, err)})
		}
	}
	return c.JSON(status, passkeyError{Error: staffText(lang, key, args...)})
}

// passkeyRegisterBegin is POST /account/2fa/passkey/begin: after the
// person's password, the options to make a passkey.
func (s *Server) passkeyRegisterBegin(c echo.Context) error {
	a, err := readPasskeyAnswer(c)
	if err != nil {
		return err
	}
	// The password first (cases), then the relying party: a refusal
	// says the more useful thing.
	rp, rpErr := s.passkeyRP()
	var creation *protocol.CredentialCreation
	handle, err := s.svc.BeginPasskeyRegistration(c.Request().Context(), actor(c), sessionToken(c), a.Password,
		func(o cases.PasskeyOwner) ([]byte, error) {
			if rpErr != nil {
				return nil, rpErr
			}
			u := passkeyUser{o}
			var sd *webauthn.SessionData
			var err error
			creation, sd, err = rp.BeginRegistration(u,
				webauthn.WithExclusions(webauthn.Credentials(u.WebAuthnCredentials()).CredentialDescriptors()),
				// Discoverable where the authenticator can, so that the
				// same passkey also signs in without the password.
				webauthn.WithAuthenticatorSelection(protocol.AuthenticatorSelection{
					ResidentKey: protocol.ResidentKeyRequirementPreferred, UserVerification: protocol.VerificationPreferred}),
				webauthn.WithConveyancePreference(protocol.PreferNoAttestation))
			if err != nil {
				return nil, err
			}
			return json.Marshal(sd)
		})
	if err != nil {
		return s.passkeyFailed(c, err)
	}
	return c.JSON(http.StatusOK, passkeyStart{Handle: handle, PublicKey: creation.Response})
}

// passkeyRegisterFinish is POST /account/2fa/passkey/finish: the new
// credential, checked against the ceremony's kept state and stored; the
// session moves to a new id.
func (s *Server) passkeyRegisterFinish(c echo.Context) error {
	a, err := readPasskeyAnswer(c)
	if err != nil {
		return err
	}
	rp, err := s.passkeyRP()
	if err != nil {
		return s.passkeyFailed(c, err)
	}
	token, err := s.svc.FinishPasskeyRegistration(c.Request().Context(), actor(c), sessionToken(c), a.Handle, a.Name,
		func(state []byte, o cases.PasskeyOwner) (cases.PasskeyCredential, error) {
			sd, err := ceremonyState(state)
			if err != nil {
				return cases.PasskeyCredential{}, err
			}
			parsed, err := protocol.ParseCredentialCreationResponseBytes(a.Credential)
			if err != nil {
				return cases.PasskeyCredential{}, err
			}
			cred, err := rp.CreateCredential(passkeyUser{o}, sd, parsed)
			if err != nil {
				return cases.PasskeyCredential{}, err
			}
			out := cases.PasskeyCredential{ID: cred.ID, PublicKey: cred.PublicKey, AAGUID: cred.Authenticator.AAGUID,
				SignCount: cred.Authenticator.SignCount, Flags: uint8(parsed.Response.AttestationObject.AuthData.Flags),
				AttestationFormat: cred.AttestationFormat}
			for _, t := range cred.Transport {
				out.Transports = append(out.Transports, string(t))
			}
			return out, nil
		})
	if err != nil {
		return s.passkeyFailed(c, err)
	}
	s.setSessionCookie(c, token)
	return c.JSON(http.StatusOK, passkeyDone{Next: accountFactorPath + "?passkey=added"})
}

// accountPasskeyRemove is POST /account/2fa/passkey/{id}/remove, with
// the person's password.
func (s *Server) accountPasskeyRemove(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return echo.ErrNotFound
	}
	err = s.svc.RemovePasskey(c.Request().Context(), actor(c), id, c.FormValue("password"))
	if msg, ok := s.factorChangeRefused(c, err); ok {
		return s.renderAccountFactor(c, http.StatusUnprocessableEntity, msg)
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, accountFactorPath)
}

// factorChangeRefused words a refused change to a second factor for
// the page: a wrong password, no password at all, a locked account.
func (s *Server) factorChangeRefused(c echo.Context, err error) (string, bool) {
	lang := s.pageLang(c)
	if lock, ok := cases.IsLoginLocked(err); ok {
		return staffText(lang, "login.locked", lockedUntilText(lock.Until)), true
	}
	switch {
	case errors.Is(err, cases.ErrWrongPassword):
		return staffText(lang, "2fa.password.wrong"), true
	case errors.Is(err, cases.ErrNoPassword):
		return staffText(lang, "2fa.password.sso"), true
	case errors.Is(err, cases.ErrWrongCode):
		return staffText(lang, "2fa.wrong"), true
	}
	return "", false
}

// assertionOf is what a verified assertion says, for cases.
func assertionOf(cred *webauthn.Credential, parsed *protocol.ParsedCredentialAssertionData) cases.PasskeyAssertion {
	return cases.PasskeyAssertion{CredentialID: cred.ID, SignCount: parsed.Response.AuthenticatorData.Counter,
		UserVerified: parsed.Response.AuthenticatorData.Flags.HasUserVerified()}
}

// loginPasskeyBegin is POST /login/2fa/passkey/begin: the options to
// sign a pending password sign-in's challenge with one of the person's
// passkeys.
func (s *Server) loginPasskeyBegin(c echo.Context) error {
	rp, err := s.passkeyRP()
	if err != nil {
		return s.passkeyFailed(c, err)
	}
	var assertion *protocol.CredentialAssertion
	handle, err := s.svc.BeginPasskeySecondFactor(c.Request().Context(), pendingOf(c), func(o cases.PasskeyOwner) ([]byte, error) {
		var sd *webauthn.SessionData
		var err error
		assertion, sd, err = rp.BeginLogin(passkeyUser{o}, webauthn.WithUserVerification(protocol.VerificationPreferred))
		if err != nil {
			return nil, err
		}
		return json.Marshal(sd)
	})
	if err != nil {
		return s.passkeyFailed(c, err)
	}
	return c.JSON(http.StatusOK, passkeyStart{Handle: handle, PublicKey: assertion.Response})
}

func pendingOf(c echo.Context) string {
	if ck, err := c.Cookie(pendingCookie); err == nil {
		return ck.Value
	}
	return ""
}

// loginPasskeyFinish is POST /login/2fa/passkey/finish: the signed
// challenge opens the session.
func (s *Server) loginPasskeyFinish(c echo.Context) error {
	a, err := readPasskeyAnswer(c)
	if err != nil {
		return err
	}
	rp, err := s.passkeyRP()
	if err != nil {
		return s.passkeyFailed(c, err)
	}
	in, err := s.svc.CompletePasskeySecondFactor(c.Request().Context(), pendingOf(c), a.Handle,
		func(state []byte, o cases.PasskeyOwner) (cases.PasskeyAssertion, error) {
			sd, err := ceremonyState(state)
			if err != nil {
				return cases.PasskeyAssertion{}, err
			}
			parsed, err := protocol.ParseCredentialRequestResponseBytes(a.Credential)
			if err != nil {
				return cases.PasskeyAssertion{}, err
			}
			cred, err := rp.ValidateLogin(passkeyUser{o}, sd, parsed)
			if err != nil {
				return cases.PasskeyAssertion{}, err
			}
			return assertionOf(cred, parsed), nil
		}, signInClient(c), s.opts.SessionTTL)
	if err != nil {
		return s.passkeyFailed(c, err)
	}
	c.SetCookie(s.pendingCookieOf("", -1))
	s.setSessionCookie(c, in.Token)
	return c.JSON(http.StatusOK, passkeyDone{Next: s.afterSignIn(in, localPath(a.Next))})
}

// afterSignIn is where a signed-in person goes: the failed sign-ins
// before this one first, if any.
func (s *Server) afterSignIn(in cases.SignedIn, next string) string {
	if in.Failed > 0 {
		return "/login/notice?next=" + url.QueryEscape(next)
	}
	return next
}

// passkeySignInBegin is POST /login/passkey/begin: the options of a
// passwordless sign-in, for any of the desk's discoverable passkeys, the
// authenticator verifying its user (a PIN or biometric).
func (s *Server) passkeySignInBegin(c echo.Context) error {
	rp, err := s.passkeyRP()
	if err != nil {
		return s.passkeyFailed(c, err)
	}
	assertion, sd, err := rp.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return fmt.Errorf("begin a passkey sign-in: %w", err)
	}
	state, err := json.Marshal(sd)
	if err != nil {
		return fmt.Errorf("keep the passkey ceremony: %w", err)
	}
	handle, err := s.svc.BeginPasskeySignIn(c.Request().Context(), state)
	if err != nil {
		return s.passkeyFailed(c, err)
	}
	return c.JSON(http.StatusOK, passkeyStart{Handle: handle, PublicKey: assertion.Response})
}

// passkeySignInFinish is POST /login/passkey/finish: a full session at
// once (the verified user is the second factor).
func (s *Server) passkeySignInFinish(c echo.Context) error {
	a, err := readPasskeyAnswer(c)
	if err != nil {
		return err
	}
	rp, err := s.passkeyRP()
	if err != nil {
		return s.passkeyFailed(c, err)
	}
	in, err := s.svc.PasskeySignIn(c.Request().Context(), a.Handle,
		func(state []byte, lookup func([]byte) (cases.PasskeyOwner, error)) (cases.PasskeyAssertion, error) {
			sd, err := ceremonyState(state)
			if err != nil {
				return cases.PasskeyAssertion{}, err
			}
			parsed, err := protocol.ParseCredentialRequestResponseBytes(a.Credential)
			if err != nil {
				return cases.PasskeyAssertion{}, err
			}
			_, cred, err := rp.ValidatePasskeyLogin(func(_, userHandle []byte) (webauthn.User, error) {
				o, err := lookup(userHandle)
				if err != nil {
					return nil, err
				}
				return passkeyUser{o}, nil
			}, sd, parsed)
			if err != nil {
				return cases.PasskeyAssertion{}, err
			}
			return assertionOf(cred, parsed), nil
		}, signInClient(c), s.opts.SessionTTL)
	if err != nil {
		return s.passkeyFailed(c, err)
	}
	s.setSessionCookie(c, in.Token)
	next := localPath(a.Next)
	return c.JSON(http.StatusOK, passkeyDone{Next: s.afterSignIn(in, next)})
}
