// Package cases is the domain of the notme desk and its storage: what a
// misdirected-email report is, the rules it follows, and the transactions
// that record it. Filing a report writes the case, the report, its
// timeline events, its outbox rows and any escalation in one transaction.
//
// What it holds, by file:
//
//   - the ledger of outgoing account mail, its batch intake and its
//     retention (ledger.go, ledgerretention.go, recipient.go);
//   - sealed link and status tokens, case ids and references (token.go,
//     ids.go);
//   - matching a report to the mail it is about, and the filing of reports
//     from links, forms, the API and mail (report.go, mail.go,
//     mailbatch.go, scan.go, original.go), with triage of reports that
//     match nothing (triage.go);
//   - cases: status, handling, assignment, holds, the queue, search and
//     facets (case.go, handling.go, assign.go, holds.go, queue.go,
//     search.go, facets.go);
//   - the append-only timeline and its event codes (eventcode.go), SLA
//     deadlines (sla.go), automatic escalation (escalation.go), the leads'
//     alerts and dashboard (leadalerts.go, dashboard.go);
//   - containment requests and the webhook outbox that delivers them
//     (containment.go, delivery.go); acknowledgements to reporters, their
//     queue and the ones staff send by hand (ack.go, ackhand.go); both
//     outboxes run on the one engine of cases/outbox (outboxes.go), and
//     desk instances heartbeat so that a dead one's claims and mailbox
//     leases end at once (instance.go);
//   - what a reporter's status page may say (status.go);
//   - staff, roles, invitations, API keys, sign-in throttles, passwords,
//     rate limits shared between instances, and the audit log (staff.go,
//     invitation.go, apikey.go, loginthrottle.go, password.go,
//     ratelimit.go, audit.go);
//   - personal data: masking, reveals, evidence and its retention
//     (mask.go, reveal.go, evidence.go, retention.go);
//   - the mail pollers' state and mailbox leases between instances
//     (mailbox.go, mailboxlease.go), and the database's clock (dbclock.go);
//   - storage: the one file of dialect differences (dialect.go) and the
//     append-only migrations (migrations.go); errors with kinds (errors.go).
//
// It knows nothing of HTTP, IMAP or MIME, and never imports a gorm driver:
// the caller opens the database (see app) and hands it over as a Store.
package cases
