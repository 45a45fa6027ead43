// Package cases is the domain of the notme desk: what a misdirected-email
// report is, the rules it follows, and the transactions that record it.
// Filing a report writes the case, the report, its timeline events, its
// outbox rows and any escalation in one transaction, so these topics share
// one package and one Service (service.go: options, kinds, severities).
//
// The topics it holds, and their files:
//
//  1. the ledger of the company's account mail, its batch intake and its
//     retention (ledger.go, ledgerretention.go, recipient.go);
//  2. filing reports from links, forms and the API, and matching each to
//     the mail it is about (report.go, scan.go, original.go);
//  3. reports by mail: classified mail, its batch intake and the evidence
//     it leaves (mail.go, mailbatch.go);
//  4. triage of reports that match nothing (triage.go);
//  5. containment holds a lead leaves behind on dismissal (holds.go);
//  6. cases and their handling: status, notes, assignment, the queue,
//     search and facets (case.go, handling.go, assign.go, queue.go,
//     search.go, facets.go);
//  7. the append-only timeline's event codes and their arguments
//     (eventcode.go);
//  8. SLA deadlines and automatic escalation (sla.go, escalation.go);
//  9. what the leads see: alerts and the dashboard (leadalerts.go,
//     dashboard.go);
//  10. containment requests and the webhook outbox that delivers them
//     (containment.go, delivery.go);
//  11. acknowledgements to reporters, their queue and the ones staff send
//     by hand (ack.go, ackhand.go); both outboxes run on the one engine of
//     cases/outbox (outboxes.go), and desk instances heartbeat so that a
//     dead one's claims and mailbox leases end at once (instance.go);
//  12. what a reporter's status page may say (status.go);
//  13. staff: users, sessions, roles, invitations, API keys and the
//     sign-in throttle (staff.go, invitation.go, apikey.go,
//     loginthrottle.go);
//  14. personal data: masked case details, reveals, the evidence viewer,
//     evidence retention and the audit log (reveal.go, evidence.go,
//     retention.go, audit.go);
//  15. sharing one database between instances: mailbox state and leases,
//     rate limits (mailbox.go, mailboxlease.go, ratelimit.go);
//  16. before the next mail goes out: the suppression list, the address
//     guard and the typo domains leads confirm (suppression.go, guard.go,
//     typodomains.go); storage that cannot take writes (unavailable.go);
//
// and errors with kinds that the web layer maps to statuses (errors.go).
//
// What needs neither the database nor the Service lives in packages of
// its own below this one: sealed link and status tokens (cases/sealed),
// case references and random secrets (cases/ident), password hashing
// (cases/passwd) and address masking (cases/mask). The database itself,
// its migrations, the one file of dialect differences and the database's
// clock are cases/store: the caller opens the database (see app) and hands
// it over as a store.Store.
//
// It knows nothing of HTTP, IMAP or MIME, and never imports a gorm driver.
package cases
