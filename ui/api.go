package ui

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"notme/cases"
)

type messageIn struct {
	MessageID  string     `json:"message_id"`
	AccountRef string     `json:"account_ref"`
	Recipient  string     `json:"recipient"`
	Kind       string     `json:"kind"`
	Subject    string     `json:"subject"`
	SentAt     *time.Time `json:"sent_at"`
}

func (m messageIn) ledger() cases.LedgerMessage {
	return cases.LedgerMessage{MessageID: m.MessageID, AccountRef: m.AccountRef, Recipient: m.Recipient,
		Kind: m.Kind, Subject: m.Subject, SentAt: m.SentAt}
}

// decodeJSON reads one JSON object, refusing unknown fields so that a typo
// in a field name is an error rather than a silently empty value.
func decodeJSON(r io.Reader, v any) error {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return cases.Errorf(cases.EINVALID, "bad JSON: %s", jsonProblem(err))
	}
	if dec.More() {
		return cases.Errorf(cases.EINVALID, "bad JSON: one object expected")
	}
	return nil
}

func jsonProblem(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("syntax error at byte %d", se.Offset)
	case errors.As(err, &te):
		return fmt.Sprintf("field %s must be %s", te.Field, te.Type)
	case errors.Is(err, io.EOF):
		return "empty body"
	case strings.HasPrefix(err.Error(), "json: unknown field"):
		return strings.TrimPrefix(err.Error(), "json: ")
	case strings.Contains(err.Error(), "parsing time"):
		return "sent_at must be an RFC 3339 time"
	}
	return "cannot be read"
}

// apiRegisterMessage is POST /api/v1/messages.
func (s *Server) apiRegisterMessage(c echo.Context) error {
	var in messageIn
	if err := decodeJSON(c.Request().Body, &in); err != nil {
		return err
	}
	reg, created, err := s.svc.RegisterMessage(c.Request().Context(), in.ledger())
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return c.JSON(status, reg)
}

type batchError struct {
	Line  int    `json:"line"`
	Error string `json:"error"`
}

type batchResult struct {
	Accepted   int          `json:"accepted"`
	Inserted   int          `json:"inserted"`
	Duplicates int          `json:"duplicates"`
	Rejected   int          `json:"rejected"`
	Errors     []batchError `json:"errors"`
	// ErrorsTruncated says that more lines were rejected than Errors lists.
	ErrorsTruncated bool   `json:"errors_truncated,omitempty"`
	Aborted         string `json:"aborted,omitempty"`
}

const (
	maxBatchLine   = 64 << 10
	maxBatchErrors = 1000
)

// apiRegisterBatch is POST /api/v1/messages/batch: NDJSON, one message a
// line, streamed in chunks of one transaction each. A bad line is reported
// by number and skipped; the good lines are kept.
func (s *Server) apiRegisterBatch(c echo.Context) error {
	ctx := c.Request().Context()
	body := http.MaxBytesReader(c.Response(), c.Request().Body, s.opts.MaxBatchBytes)
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 64<<10), maxBatchLine)
	batch := s.svc.NewLedgerBatch()
	var res batchResult
	reject := func(line int, msg string) {
		res.Rejected++
		if len(res.Errors) < maxBatchErrors {
			res.Errors = append(res.Errors, batchError{Line: line, Error: msg})
		} else {
			res.ErrorsTruncated = true
		}
	}
	line := 0
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		var in messageIn
		if err := decodeJSON(bytes.NewReader(b), &in); err != nil {
			reject(line, cases.ErrorMessage(err))
			continue
		}
		if err := batch.Add(ctx, in.ledger()); err != nil {
			if cases.ErrorCode(err) == cases.EINVALID {
				reject(line, cases.ErrorMessage(err))
				continue
			}
			return s.batchAborted(c, batch, res, err)
		}
	}
	if err := sc.Err(); err != nil {
		var tooLarge *http.MaxBytesError
		msg := "the body could not be read to its end"
		switch {
		case errors.As(err, &tooLarge):
			msg = fmt.Sprintf("the body is larger than %d bytes; split the batch", s.opts.MaxBatchBytes)
		case errors.Is(err, bufio.ErrTooLong):
			msg = fmt.Sprintf("line %d is longer than %d bytes", line+1, maxBatchLine)
		}
		if ferr := batch.Flush(ctx); ferr != nil {
			return s.batchAborted(c, batch, res, ferr)
		}
		res.Aborted = msg + "; the lines before it were processed"
		return c.JSON(http.StatusUnprocessableEntity, fill(res, batch))
	}
	if err := batch.Flush(ctx); err != nil {
		return s.batchAborted(c, batch, res, err)
	}
	return c.JSON(http.StatusOK, fill(res, batch))
}

func fill(res batchResult, b *cases.LedgerBatch) batchResult {
	res.Accepted, res.Inserted, res.Duplicates = b.Accepted, b.Inserted, b.Accepted-b.Inserted
	if res.Errors == nil {
		res.Errors = []batchError{}
	}
	return res
}

func (s *Server) batchAborted(c echo.Context, b *cases.LedgerBatch, res batchResult, err error) error {
	s.log.Error("ledger batch aborted", "err", err, "accepted", b.Accepted)
	res.Aborted = "storage failed; the lines counted as accepted are stored, resend the rest"
	status := http.StatusInternalServerError
	if cases.ErrorCode(err) == cases.EUNAVAILABLE {
		status = http.StatusServiceUnavailable
		res.Aborted = "storage unavailable; the lines counted as accepted are stored, resend the rest after Retry-After"
	}
	retryLater(c, status)
	return c.JSON(status, fill(res, b))
}

type mintIn struct {
	AccountRef string `json:"account_ref"`
	Kind       string `json:"kind"`
	Recipient  string `json:"recipient"`
}

// apiMint is POST /api/v1/mint.
func (s *Server) apiMint(c echo.Context) error {
	var in mintIn
	if err := decodeJSON(c.Request().Body, &in); err != nil {
		return err
	}
	m, err := s.svc.Mint(in.AccountRef, in.Kind, in.Recipient)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, m)
}

type reportIn struct {
	Token         string   `json:"token"`
	MessageID     string   `json:"message_id"`
	MessageIDs    []string `json:"message_ids"`
	Reporter      string   `json:"reporter"`
	OpenedLink    bool     `json:"opened_link"`
	SetPassword   bool     `json:"set_password"`
	NeverSignedUp bool     `json:"never_signed_up"`
	Note          string   `json:"note"`
}

type reportOut struct {
	Ref       string `json:"ref"`
	StatusURL string `json:"status_url"`
	Match     string `json:"match"`
}

// apiFileReport is POST /api/v1/reports: the call centre files a report on
// a caller's behalf.
func (s *Server) apiFileReport(c echo.Context) error {
	var in reportIn
	if err := decodeJSON(c.Request().Body, &in); err != nil {
		return err
	}
	ids := in.MessageIDs
	if in.MessageID != "" {
		ids = append([]string{in.MessageID}, ids...)
	}
	if in.Token == "" && len(ids) == 0 {
		return cases.Errorf(cases.EINVALID, "give the token of the not-me link or the Message-ID of the mail")
	}
	// Idempotency-Key: a call sent again with the same key (and API key)
	// files nothing more and answers as the first did.
	idem := c.Request().Header.Get("Idempotency-Key")
	if len(idem) > 255 {
		return cases.Errorf(cases.EINVALID, "the Idempotency-Key header is longer than 255 characters")
	}
	var submission string
	var request []byte
	if k, ok := c.Get(ctxAPIKey).(*cases.APIKey); ok && idem != "" {
		submission = fmt.Sprintf("api\x00%d\x00%s", k.ID, idem)
		// The request as decoded, so a client that writes the same
		// fields in another order or spacing sends the same request.
		var err error
		if request, err = json.Marshal(in); err != nil {
			return fmt.Errorf("digest the request: %w", err)
		}
	}
	filed, err := s.svc.FileReport(c.Request().Context(), cases.ReportInput{
		Channel: cases.ChannelAPI, Token: in.Token, MessageIDs: ids, Reporter: in.Reporter,
		OpenedLink: in.OpenedLink, SetPassword: in.SetPassword, NeverSignedUp: in.NeverSignedUp,
		Note: in.Note, Actor: actor(c).String(), Submission: submission, Request: request,
	})
	if err != nil {
		return err
	}
	if filed.Again {
		c.Response().Header().Set("Idempotent-Replayed", "true")
	} else {
		s.metrics.reported(filed)
	}
	return c.JSON(http.StatusCreated, reportOut{Ref: filed.CaseRef, StatusURL: s.publicURL + "/s/" + filed.StatusToken, Match: string(filed.Report.Match)})
}

type reportJSON struct {
	Channel    cases.Channel `json:"channel"`
	MatchedBy  string        `json:"matched_by"`
	Match      cases.Match   `json:"match"`
	ReceivedAt time.Time     `json:"received_at"`
}

type caseJSON struct {
	Ref        string         `json:"ref"`
	AccountRef string         `json:"account_ref"`
	Kind       string         `json:"kind"`
	Status     cases.Status   `json:"status"`
	Severity   cases.Severity `json:"severity"`
	Tier       string         `json:"tier"`
	Match      cases.Match    `json:"match"`
	Escalated  bool           `json:"escalated"`
	Reports    []reportJSON   `json:"reports"`
	CreatedAt  time.Time      `json:"created_at"`
	ContainBy  time.Time      `json:"contain_by"`
	// ResolveBy is absent on cases opened before resolve deadlines existed;
	// AssessBy only on cases that exposed personal data (a breach
	// assessment is owed), AssessedAt once a lead recorded it.
	ResolveBy  *time.Time `json:"resolve_by,omitempty"`
	AssessBy   *time.Time `json:"assess_by,omitempty"`
	AssessedAt *time.Time `json:"assessed_at,omitempty"`
	// Deadlines are the case's deadlines with their state (met, pending,
	// overdue) at the desk's clock, as every page shows them.
	Deadlines []deadlineJSON `json:"deadlines"`
	// Containment is given for one case (GET /api/v1/cases/{ref}).
	Containment []containmentJSON `json:"containment,omitempty"`
	// Exposure is given for one case: what the wrong person received.
	Exposure *exposureJSON `json:"exposure,omitempty"`
}

// deadlineJSON is one deadline of a case: kind contain, resolve or
// assess; state met, pending or overdue.
type deadlineJSON struct {
	Kind  string              `json:"kind"`
	Due   time.Time           `json:"due"`
	State cases.DeadlineState `json:"state"`
}

func toCaseJSON(c cases.Case, reports []cases.Report, now time.Time) caseJSON {
	out := caseJSON{Ref: c.Ref, AccountRef: c.AccountRef, Kind: c.Kind, Status: c.Status, Severity: c.Severity,
		Tier: c.Tier, Match: c.Match, Escalated: c.Escalated, CreatedAt: c.CreatedAt, ContainBy: c.ContainBy,
		ResolveBy: c.ResolveBy, AssessBy: c.AssessBy, AssessedAt: c.AssessedAt, Reports: []reportJSON{},
		Deadlines: []deadlineJSON{}}
	for _, d := range c.Deadlines(now) {
		out.Deadlines = append(out.Deadlines, deadlineJSON{Kind: d.Kind, Due: d.Due, State: d.State})
	}
	for _, r := range reports {
		out.Reports = append(out.Reports, reportJSON{Channel: r.Channel, MatchedBy: r.MatchedBy, Match: r.Match, ReceivedAt: r.ReceivedAt})
	}
	return out
}

// apiCases is GET /api/v1/cases with filters status, severity, escalated,
// account_ref (and match, limit).
func (s *Server) apiCases(c echo.Context) error {
	f := cases.QueueFilter{
		Severity: cases.Severity(c.QueryParam("severity")), Match: cases.Match(c.QueryParam("match")),
		AccountRef: c.QueryParam("account_ref"),
	}
	if st := c.QueryParam("status"); st != "" {
		for _, x := range strings.Split(st, ",") {
			f.Statuses = append(f.Statuses, cases.Status(x))
		}
	}
	if e := c.QueryParam("escalated"); e != "" {
		b, err := strconv.ParseBool(e)
		if err != nil {
			return cases.Errorf(cases.EINVALID, "escalated must be true or false")
		}
		f.Escalated = &b
	}
	if l := c.QueryParam("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 1000 {
			return cases.Errorf(cases.EINVALID, "limit must be 1 to 1000")
		}
		f.Limit = n
	}
	list, err := s.svc.Queue(c.Request().Context(), actor(c), f)
	if err != nil {
		return err
	}
	ids := make([]int64, len(list))
	for i, q := range list {
		ids[i] = q.ID
	}
	reports, err := s.svc.ReportsOf(c.Request().Context(), actor(c), ids)
	if err != nil {
		return err
	}
	out := struct {
		Cases []caseJSON `json:"cases"`
	}{Cases: []caseJSON{}}
	now := s.svc.Now()
	for _, q := range list {
		out.Cases = append(out.Cases, toCaseJSON(q.Case, reports[q.ID], now))
	}
	return c.JSON(http.StatusOK, out)
}

// apiCase is GET /api/v1/cases/{ref}.
func (s *Server) apiCase(c echo.Context) error {
	d, err := s.svc.CaseByRef(c.Request().Context(), actor(c), c.Param("ref"))
	if err != nil {
		return err
	}
	out := toCaseJSON(d.Case, d.Reports, s.svc.Now())
	views, err := s.svc.ContainmentOf(c.Request().Context(), actor(c), d.Case.ID)
	if err != nil {
		return err
	}
	out.Containment = toContainmentJSON(views)
	e, err := s.svc.Exposure(c.Request().Context(), actor(c), d.Case.Ref)
	if err != nil {
		return err
	}
	out.Exposure = toExposureJSON(e)
	return c.JSON(http.StatusOK, out)
}
