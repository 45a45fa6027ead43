package ui

import (
	"strings"

	"notme/cases"
)

// eventLabels name the timeline's event types in a word or two, so the
// timeline can be read down its left edge.
var eventLabels = map[string]string{
	cases.EventOpened:               "Opened",
	cases.EventReportAdded:          "Report",
	cases.EventSeverityRaised:       "Severity",
	cases.EventMatchImproved:        "Match",
	cases.EventUndeliverable:        "Undeliverable",
	cases.EventMatchConfirmed:       "Match confirmed",
	cases.EventContainmentRequested: "Containment",
	cases.EventContainmentDelivered: "Webhook delivered",
	cases.EventContainmentResult:    "Containment result",
	cases.EventWebhookDead:          "Webhook failed",
	cases.EventWebhookRetried:       "Webhook retried",
	cases.EventAssigned:             "Assigned",
	cases.EventNote:                 "Note",
	cases.EventStatus:               "Status",
	cases.EventOutcomeQueue:         "Outcome notice",
	cases.EventEscalated:            "Escalated",
	cases.EventDeescalated:          "De-escalated",
	cases.EventReopened:             "Reopened",
	cases.EventEvidencePurged:       "Evidence purged",
	cases.EventSLABreached:          "SLA breached",
	cases.EventAssessed:             "Breach assessment",
	cases.EventNewEvidence:          "New evidence",
}

// eventLabel names an event type; an unknown one reads as its words.
func eventLabel(typ string) string {
	if l, ok := eventLabels[typ]; ok {
		return l
	}
	if typ == "" {
		return "Event"
	}
	w := strings.ReplaceAll(typ, "_", " ")
	return strings.ToUpper(w[:1]) + w[1:]
}
