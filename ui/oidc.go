package ui

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/zitadel/oidc/v3/pkg/client/rp"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"golang.org/x/oauth2"

	"notme/cases"
)

// OIDC configures single sign-on through an OpenID Connect provider: the
// authorization code flow with PKCE, state and nonce (OpenID Connect Core
// 1.0 §3.1), discovery and signing keys from the issuer.
type OIDC struct {
	// Name is the provider as staff know it: "Sign in with <Name>".
	Name     string
	Issuer   string
	ClientID string
	// ClientSecret is used only in the token request; never logged.
	ClientSecret string
	// Scopes are asked for besides openid; default email and profile.
	Scopes []string
	// GroupsClaim names the claim carrying the person's groups, read from
	// the ID token, else from userinfo. Default "groups".
	GroupsClaim string
	Mapping     cases.SSOMapping
	// HTTPClient talks to the provider; nil is one with a 10 s timeout.
	HTTPClient *http.Client
}

// oidcCallbackPath is the redirect URI to register at the provider,
// after the public URL.
const oidcCallbackPath = "/login/oidc/callback"

// oidcFlowLifetime bounds the time from "Sign in with…" to the callback.
const oidcFlowLifetime = 10 * time.Minute

// oidcRediscover: discovery is fetched again after this long, so a
// provider's new endpoints are followed without a restart.
const oidcRediscover = 24 * time.Hour

// oidcClient is the relying party, discovered on first use rather than at
// start: a provider that is down must not keep the desk (and its
// break-glass sign-in) from starting.
type oidcClient struct {
	cfg      OIDC
	redirect string
	log      *slog.Logger

	mu    sync.Mutex
	party rp.RelyingParty
	at    time.Time
	// failed, failedAt: the last discovery's failure, answered again for
	// oidcRetryAfter so that an outage is not asked about once a click.
	failed   error
	failedAt time.Time
}

// oidcRetryAfter is how long a failed discovery is not tried again.
const oidcRetryAfter = 10 * time.Second

type nonceKey struct{}

func newOIDCClient(cfg OIDC, publicURL string, log *slog.Logger) *oidcClient {
	if cfg.GroupsClaim == "" {
		cfg.GroupsClaim = "groups"
	}
	if len(cfg.Scopes) == 0 {
		cfg.Scopes = []string{oidc.ScopeEmail, oidc.ScopeProfile}
	}
	if !slices.Contains(cfg.Scopes, oidc.ScopeOpenID) {
		cfg.Scopes = append([]string{oidc.ScopeOpenID}, cfg.Scopes...)
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	return &oidcClient{cfg: cfg, redirect: strings.TrimRight(publicURL, "/") + oidcCallbackPath, log: log}
}

// relyingParty returns the discovered relying party, discovering it if
// it is not yet (or no longer) known.
func (o *oidcClient) relyingParty(ctx context.Context) (rp.RelyingParty, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.party != nil && time.Since(o.at) < oidcRediscover {
		return o.party, nil
	}
	if o.party == nil && o.failed != nil && time.Since(o.failedAt) < oidcRetryAfter {
		return nil, o.failed
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	party, err := rp.NewRelyingPartyOIDC(ctx, o.cfg.Issuer, o.cfg.ClientID, o.cfg.ClientSecret, o.redirect, o.cfg.Scopes,
		rp.WithHTTPClient(o.cfg.HTTPClient),
		rp.WithVerifierOpts(rp.WithNonce(func(ctx context.Context) string {
			n, _ := ctx.Value(nonceKey{}).(string)
			return n
		})),
	)
	if err != nil {
		o.failed, o.failedAt = err, time.Now()
		if o.party != nil {
			// The keys and endpoints known stay good while the
			// provider's discovery document cannot be read.
			return o.party, nil
		}
		return nil, err
	}
	o.party, o.at, o.failed = party, time.Now(), nil
	return party, nil
}

// oidcFlow is what the browser carries from the start of a sign-in to its
// callback: the state, the nonce, the PKCE verifier and where to go after.
type oidcFlow struct{ State, Nonce, Verifier, Next string }

func (f oidcFlow) cookieValue() string {
	return f.State + "." + f.Nonce + "." + f.Verifier + "." + base64.RawURLEncoding.EncodeToString([]byte(f.Next))
}

func parseOIDCFlow(v string) (oidcFlow, bool) {
	parts := strings.Split(v, ".")
	if len(parts) != 4 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		return oidcFlow{}, false
	}
	next, err := base64.RawURLEncoding.DecodeString(parts[3])
	if err != nil {
		return oidcFlow{}, false
	}
	return oidcFlow{State: parts[0], Nonce: parts[1], Verifier: parts[2], Next: localPath(string(next))}, true
}

// oidcCookieName is __Host- prefixed over HTTPS, like the CSRF cookie, so
// a sibling host cannot plant a flow of its own (a login CSRF).
func (s *Server) oidcCookieName() string {
	if s.opts.SecureCookies && strings.HasPrefix(s.publicURL, "https://") {
		return "__Host-notme_oidc"
	}
	return "notme_oidc"
}

// The flow cookie is SameSite=Lax: the provider's redirect back is a
// cross-site navigation, on which a Strict cookie would not come.
func (s *Server) oidcCookie(value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: s.oidcCookieName(), Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: s.opts.SecureCookies, SameSite: http.SameSiteLaxMode}
}

// oidcStart is GET /login/oidc: off to the provider with a fresh state,
// nonce and PKCE challenge.
func (s *Server) oidcStart(c echo.Context) error {
	if s.oidc == nil {
		return echo.ErrNotFound
	}
	party, err := s.oidc.relyingParty(c.Request().Context())
	if err != nil {
		return s.discoveryFailed(c, err)
	}
	f := oidcFlow{State: newCSRFToken(), Nonce: newCSRFToken(), Verifier: newCSRFToken(), Next: localPath(c.QueryParam("next"))}
	c.SetCookie(s.oidcCookie(f.cookieValue(), int(oidcFlowLifetime/time.Second)))
	challenge := sha256.Sum256([]byte(f.Verifier))
	u := rp.AuthURL(f.State, party,
		rp.WithCodeChallenge(base64.RawURLEncoding.EncodeToString(challenge[:])), // RFC 7636 §4.2, S256
		rp.AuthURLOpt(rp.WithURLParam("nonce", f.Nonce)))
	return c.Redirect(http.StatusSeeOther, u)
}

// oidcCallback is GET /login/oidc/callback: the provider sends the person
// back with a code, which is exchanged for tokens that are verified
// (signature, issuer, audience, times, nonce); the claims then open a
// session through cases.SignInSSO.
func (s *Server) oidcCallback(c echo.Context) error {
	if s.oidc == nil {
		return echo.ErrNotFound
	}
	ctx := c.Request().Context()
	var flow oidcFlow
	ok := false
	if ck, err := c.Cookie(s.oidcCookieName()); err == nil {
		flow, ok = parseOIDCFlow(ck.Value)
	}
	c.SetCookie(s.oidcCookie("", -1)) // one callback per flow
	q := c.QueryParams()
	if e := q.Get("error"); e != "" {
		s.log.Warn("single sign-on: the provider refused the sign-in", "reason", "provider_error",
			"error", truncateLog(e), "error_description", truncateLog(q.Get("error_description")))
		return s.oidcFailed(c, http.StatusForbidden, "sso.err.provider")
	}
	if !ok || subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(flow.State)) != 1 || q.Get("code") == "" {
		s.log.Warn("single sign-on: the callback's state does not match the sign-in this browser started (expired, replayed, forged, or started in another tab)",
			"reason", "bad_state", "flow_cookie", ok)
		return s.oidcFailed(c, http.StatusBadRequest, "sso.err.state")
	}
	party, err := s.oidc.relyingParty(ctx)
	if err != nil {
		return s.discoveryFailed(c, err)
	}
	tokens, err := rp.CodeExchange[*oidc.IDTokenClaims](context.WithValue(ctx, nonceKey{}, flow.Nonce), q.Get("code"), party,
		rp.WithCodeVerifier(flow.Verifier))
	if err != nil {
		reason, hint := oidcFailure(err)
		s.log.Error("single sign-on: "+hint, "reason", reason, "issuer", s.oidc.cfg.Issuer, "err", oidcLogErr(err))
		return s.oidcFailed(c, http.StatusBadGateway, "sso.err.provider")
	}
	id, missing, err := s.oidcIdentity(ctx, party, tokens)
	if err != nil {
		s.log.Error("single sign-on: userinfo could not be read", "reason", "userinfo", "err", oidcLogErr(err))
		return s.oidcFailed(c, http.StatusBadGateway, "sso.err.provider")
	}
	if missing {
		s.log.Error("single sign-on: the groups claim is in neither the ID token nor userinfo; configure the provider to send it, or set auth.oidc.groups_claim",
			"reason", "groups_claim_missing", "groups_claim", s.oidc.cfg.GroupsClaim)
		return s.oidcFailed(c, http.StatusForbidden, "sso.err.nogroup")
	}
	in, err := s.svc.SignInSSO(ctx, id, s.oidc.cfg.Mapping, signInClient(c), s.opts.SessionTTL)
	if r, refused := cases.IsSSORefusal(err); refused {
		s.log.Warn("single sign-on: the desk refused a person the provider vouched for", "reason", r.Reason,
			"groups", len(id.Groups))
		return s.oidcFailed(c, http.StatusForbidden, "sso.err."+r.Reason)
	}
	if err != nil {
		return err
	}
	s.setSessionCookie(c, in.Token)
	// The session cookie is SameSite=Strict, and this answer ends a
	// navigation that began on the provider's site, so a redirect would
	// arrive without it: a page of this site moves on instead.
	p := s.pageT(c, "sso.continue.title")
	p.User = nil
	return s.render(c, http.StatusOK, "continue", continuePage{page: p, Next: flow.Next})
}

// discoveryFailed logs why the provider's discovery failed and answers
// the person calmly.
func (s *Server) discoveryFailed(c echo.Context, err error) error {
	if errors.Is(err, oidc.ErrIssuerInvalid) {
		s.log.Error("single sign-on: the discovery document names another issuer; set auth.oidc.issuer exactly as the provider's discovery document says (a trailing slash counts)",
			"reason", "issuer_mismatch", "issuer", s.oidc.cfg.Issuer, "err", truncateLog(err.Error()))
		return s.oidcFailed(c, http.StatusBadGateway, "sso.err.provider")
	}
	s.log.Error("single sign-on: the provider's discovery document cannot be read; check auth.oidc.issuer and that the desk reaches it",
		"reason", "discovery", "issuer", s.oidc.cfg.Issuer, "err", truncateLog(err.Error()))
	return s.oidcFailed(c, http.StatusBadGateway, "sso.err.unreachable")
}

type continuePage struct {
	page
	Next string
}

// oidcIdentity gathers the person from the verified ID token and, for what
// it lacks (many providers put the address and groups only there), from
// userinfo; missing is true when neither carries the groups claim.
func (s *Server) oidcIdentity(ctx context.Context, party rp.RelyingParty, t *oidc.Tokens[*oidc.IDTokenClaims]) (cases.SSOIdentity, bool, error) {
	claims := t.IDTokenClaims
	id := cases.SSOIdentity{Issuer: claims.Issuer, Subject: claims.Subject, Email: claims.Email, EmailVerified: bool(claims.EmailVerified)}
	groups, found := claimStrings(claims.Claims[s.oidc.cfg.GroupsClaim])
	if (id.Email == "" || !found) && party.UserinfoEndpoint() != "" && t.AccessToken != "" {
		info, err := rp.Userinfo[*oidc.UserInfo](ctx, t.AccessToken, t.TokenType, claims.Subject, party)
		if err != nil {
			return id, false, err
		}
		if id.Email == "" {
			id.Email, id.EmailVerified = info.Email, bool(info.EmailVerified)
		}
		if !found {
			groups, found = claimStrings(info.Claims[s.oidc.cfg.GroupsClaim])
		}
	}
	id.Groups = groups
	return id, !found, nil
}

// claimStrings reads a groups claim: a JSON array of strings (Keycloak,
// Entra ID, Okta), or one string.
func claimStrings(v any) ([]string, bool) {
	switch x := v.(type) {
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out, true
	case []string:
		return x, true
	case string:
		return []string{x}, true
	}
	return nil, false
}

// oidcFailure names why a code exchange failed, for the admin reading
// the log.
func oidcFailure(err error) (reason, hint string) {
	var re *oauth2.RetrieveError
	switch {
	case errors.As(err, &re):
		return "token_endpoint", "the provider's token endpoint refused the code; check auth.oidc.client_id, the client secret and the registered redirect URI"
	case errors.Is(err, oidc.ErrIssuerInvalid):
		return "issuer_mismatch", "the ID token's issuer is not auth.oidc.issuer; set it exactly as the provider's discovery document says"
	case errors.Is(err, oidc.ErrIatInFuture), errors.Is(err, oidc.ErrIatToOld), errors.Is(err, oidc.ErrExpired), errors.Is(err, oidc.ErrAuthTimeToOld):
		return "clock_skew", "the ID token's times do not fit this server's clock; check that this server and the provider keep time (NTP)"
	case errors.Is(err, oidc.ErrNonceInvalid):
		return "bad_nonce", "the ID token's nonce is not the one this sign-in sent (a replayed token)"
	case errors.Is(err, oidc.ErrAudience), errors.Is(err, oidc.ErrAzpInvalid), errors.Is(err, oidc.ErrAzpMissing):
		return "audience", "the ID token was issued to another client; check auth.oidc.client_id"
	case errors.Is(err, oidc.ErrSignatureInvalid), errors.Is(err, oidc.ErrSignatureUnsupportedAlg),
		errors.Is(err, oidc.ErrSignatureInvalidPayload), errors.Is(err, oidc.ErrSignatureMissing):
		return "signature", "the ID token's signature does not verify with the provider's published keys"
	}
	return "exchange", "the code could not be exchanged for a verified ID token"
}

// oidcLogErr keeps a token endpoint's answer out of the log: its body
// is the provider's, and only its error code is needed.
func oidcLogErr(err error) string {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		status := 0
		if re.Response != nil {
			status = re.Response.StatusCode
		}
		return fmt.Sprintf("token endpoint answered %d %s", status, truncateLog(re.ErrorCode))
	}
	return truncateLog(err.Error())
}

func truncateLog(s string) string {
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}

// oidcFailed is the calm page of a single sign-on that did not work, in
// the person's language, with the way back to the sign-in page.
func (s *Server) oidcFailed(c echo.Context, status int, key string) error {
	lang := s.pageLang(c)
	if !texts.has(lang, key) {
		key = "sso.err.provider"
	}
	p := s.page(c, staffText(lang, "sso.err.title"))
	return s.render(c, status, "error", errorPage{page: p, Message: staffText(lang, key), Status: status,
		Next: "/login", NextText: staffText(lang, "sso.err.again")})
}
