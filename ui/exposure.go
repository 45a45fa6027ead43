package ui

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"notme/cases"
)

// exposureView is the case page's "what the wrong person received", with
// kind names in the reader's language.
type exposureView struct {
	cases.Exposure
	Label map[string]string // kind name → label
}

// RecipientList is the masked wrong addresses, comma-separated.
func (v *exposureView) RecipientList() string { return strings.Join(v.Recipients, ", ") }

// exposureOf is the case's exposure for the case page; only leads and
// admins see the section (cases.Service.Exposure refuses anyone else).
func (s *Server) exposureOf(c echo.Context, lang, ref string) (*exposureView, error) {
	e, err := s.svc.Exposure(c.Request().Context(), actor(c), ref)
	if err != nil {
		return nil, err
	}
	v := &exposureView{Exposure: e, Label: map[string]string{}}
	for _, k := range e.Kinds {
		v.Label[k.Kind] = k.Kind
		if def, ok := s.svc.Kind(k.Kind); ok {
			v.Label[k.Kind] = kindLabelOf(lang, def)
		}
	}
	return v, nil
}

// exposureJSON is a case's exposure in the API's answer and the export.
type exposureJSON struct {
	CaseRef            string             `json:"case_ref"`
	AccountRef         string             `json:"account_ref"`
	Recipients         []string           `json:"recipients"`
	UnlistedRecipients int                `json:"unlisted_recipients"`
	Total              int                `json:"total"`
	Listed             int                `json:"listed"`
	Truncated          bool               `json:"truncated"`
	First              *exposureMailJSON  `json:"first"`
	Last               *exposureMailJSON  `json:"last"`
	Kinds              []exposureKindJSON `json:"kinds"`
	Credential         bool               `json:"credential"`
	PersonalData       bool               `json:"personal_data"`
	OpenedLink         bool               `json:"opened_link"`
	SetPassword        bool               `json:"set_password"`
	CredentialLinkUsed bool               `json:"credential_link_used"`
	Mails              []exposureMailJSON `json:"mails"`
	// GeneratedAt is set on an export: when the desk answered.
	GeneratedAt *time.Time `json:"generated_at,omitempty"`
}

type exposureMailJSON struct {
	At           time.Time `json:"at"`
	MessageID    string    `json:"message_id"`
	Kind         string    `json:"kind"`
	Credential   bool      `json:"credential"`
	PersonalData bool      `json:"personal_data"`
	Recipient    string    `json:"recipient"`
	Subject      string    `json:"subject"`
	Reported     bool      `json:"reported"`
}

type exposureKindJSON struct {
	Kind         string     `json:"kind"`
	Mails        int        `json:"mails"`
	First        *time.Time `json:"first"`
	Last         *time.Time `json:"last"`
	Credential   bool       `json:"credential"`
	PersonalData bool       `json:"personal_data"`
	Reported     bool       `json:"reported"`
}

func toExposureMailJSON(m cases.ExposureMail) exposureMailJSON {
	return exposureMailJSON{At: m.At, MessageID: m.MessageID, Kind: m.Kind, Credential: m.Credential,
		PersonalData: m.PersonalData, Recipient: m.Recipient, Subject: m.Subject, Reported: m.Reported}
}

func toExposureJSON(e cases.Exposure) *exposureJSON {
	out := &exposureJSON{CaseRef: e.CaseRef, AccountRef: e.AccountRef, Recipients: e.Recipients,
		UnlistedRecipients: e.UnlistedRecipients, Total: e.Total, Listed: len(e.Mails), Truncated: e.Truncated(),
		Kinds: []exposureKindJSON{}, Credential: e.Credential, PersonalData: e.PersonalData,
		OpenedLink: e.OpenedLink, SetPassword: e.SetPassword, CredentialLinkUsed: e.CredentialLinkUsed,
		Mails: []exposureMailJSON{}}
	if e.First != nil {
		f, l := toExposureMailJSON(*e.First), toExposureMailJSON(*e.Last)
		out.First, out.Last = &f, &l
	}
	for _, k := range e.Kinds {
		out.Kinds = append(out.Kinds, exposureKindJSON{Kind: k.Kind, Mails: k.Mails, First: k.First, Last: k.Last,
			Credential: k.Credential, PersonalData: k.PersonalData, Reported: k.Reported})
	}
	for _, m := range e.Mails {
		out.Mails = append(out.Mails, toExposureMailJSON(m))
	}
	return out
}

// exposureCSVHeader names the export's columns, one mail a row.
var exposureCSVHeader = []string{"sent_at", "message_id", "kind", "credential", "personal_data", "recipient", "subject", "reported"}

// caseExposureJSON is GET /cases/{ref}/exposure.json: the exposure for
// the regulator's report (leads and admins; audited).
func (s *Server) caseExposureJSON(c echo.Context) error {
	e, err := s.svc.ExportExposure(c.Request().Context(), actor(c), c.Param("ref"), cases.ExposureJSON)
	if err != nil {
		return err
	}
	out := toExposureJSON(e)
	now := s.svc.Now().UTC()
	out.GeneratedAt = &now
	body, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return fmt.Errorf("encode the exposure of %s: %w", e.CaseRef, err)
	}
	setExportHeaders(c, e, "json")
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSONCharsetUTF8, append(body, '\n'))
}

// caseExposureCSV is GET /cases/{ref}/exposure.csv: the listed mails, one
// a row (leads and admins; audited). X-Exposure-Total gives the count of
// all of them, which the JSON export also carries.
func (s *Server) caseExposureCSV(c echo.Context) error {
	e, err := s.svc.ExportExposure(c.Request().Context(), actor(c), c.Param("ref"), cases.ExposureCSV)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	rows := [][]string{exposureCSVHeader}
	for _, m := range e.Mails {
		rows = append(rows, []string{m.At.UTC().Format(time.RFC3339), csvCell(m.MessageID), m.Kind,
			strconv.FormatBool(m.Credential), strconv.FormatBool(m.PersonalData), csvCell(m.Recipient),
			csvCell(m.Subject), strconv.FormatBool(m.Reported)})
	}
	if err := w.WriteAll(rows); err != nil {
		return fmt.Errorf("write the exposure of %s: %w", e.CaseRef, err)
	}
	setExportHeaders(c, e, "csv")
	return c.Blob(http.StatusOK, "text/csv; charset=utf-8", buf.Bytes())
}

func setExportHeaders(c echo.Context, e cases.Exposure, ext string) {
	h := c.Response().Header()
	h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="exposure-%s.%s"`, e.CaseRef, ext))
	h.Set("Cache-Control", "no-store")
	h.Set("X-Exposure-Total", strconv.Itoa(e.Total))
}

// csvCell keeps a spreadsheet from reading a cell as a formula.
func csvCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
