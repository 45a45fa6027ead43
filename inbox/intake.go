package inbox

import (
	"context"
	"errors"
	"fmt"

	"github.com/emersion/go-imap/v2"

	"notme/cases"
)

// intakeAhead bounds the batches fetched but not yet committed: enough to
// keep the connection, the parser and the database busy at once, few
// enough that memory stays a small multiple of BatchBytes. (Committed
// batches waiting for their MOVE keep only their UIDs.)
const intakeAhead = 3

// moveAtLeast is how many committed messages wait for one MOVE while more
// batches follow. A server's MOVE costs mostly per command and per folder
// (Dovecot updates its Maildir index and UID list), little per message:
// here 100 took 20-45 ms and 1,000 about 140 ms. A crash meanwhile only
// means more mail recognised and moved on the next fetch.
const moveAtLeast = 1000

// intakeBatch is one batch on its way through the stages.
type intakeBatch struct {
	mails []fetchedMail
	in    []cases.InboundMail
	out   []cases.Ingested
	err   error // the store failed: nothing of this batch was committed
}

// takeIn fetches, stores and moves the messages uids in batches, the
// stages overlapped. The poller's goroutine owns the connection: it fetches
// batch N+1 and moves what is committed while a parser goroutine parses
// batch N on all cores and a store goroutine commits the batch before it,
// one transaction per batch and one batch after the other. Moves follow
// commits in order, several batches in one MOVE (moveAtLeast), since the
// server's cost is mostly per command.
//
// The order of work per message is unchanged (fetched, committed, then
// moved), so a crash between any two steps leaves at worst a stored
// message in the folder, recognised when it is fetched again. Cancelling
// ctx stops the fetching; the batches already fetched are committed and
// moved before takeIn returns.
func (p *Poller) takeIn(ctx context.Context, mc *mailConn, r *roundResult, uids []imap.UID) error {
	sized, err := mc.sizes(uids)
	if err != nil {
		return err
	}
	r.waiting += len(sized)
	if len(sized) == 0 {
		return nil
	}

	// Channels hold up to intakeAhead batches, as many as are ever in
	// flight, so the stages never block on sending and always end once
	// toParse is closed.
	toParse := make(chan *intakeBatch, intakeAhead)
	toStore := make(chan *intakeBatch, intakeAhead)
	stored := make(chan *intakeBatch, intakeAhead)
	go func() {
		defer close(toStore)
		for b := range toParse {
			p.pipe.Parse(b.in)
			toStore <- b
		}
	}()
	go func() {
		defer close(stored)
		for b := range toStore {
			// The batches in hand are finished even when ctx is cancelled.
			b.out, b.err = p.pipe.Store(context.WithoutCancel(ctx), b.in)
			if b.err == nil && len(b.out) != len(b.in) {
				b.err = fmt.Errorf("store %d messages: the pipeline answered for %d", len(b.in), len(b.out))
			}
			stored <- b
		}
	}()

	inFlight := 0
	var committed []imap.UID // stored, waiting for their MOVE
	var storeErr, connErr error
	lost := false
	accept := func(b *intakeBatch) {
		inFlight--
		if b.err != nil {
			err := fmt.Errorf("store %d messages: %w", len(b.in), b.err)
			var size int64
			for _, m := range b.mails {
				size += int64(len(m.raw))
			}
			if p.batchFailed(len(b.in), size) {
				err = errors.Join(errSmallerBatches, err)
			}
			storeErr = cmpErr(storeErr, err)
			return
		}
		p.batchStored()
		p.count(r, b)
		for _, m := range b.mails {
			committed = append(committed, m.uid)
		}
	}
	// collect takes the stored batches that are ready, waiting for one at
	// least when wait is set.
	collect := func(wait bool) {
		if wait && inFlight > 0 {
			accept(<-stored)
		}
		for inFlight > 0 {
			select {
			case b := <-stored:
				accept(b)
			default:
				return
			}
		}
	}
	moveCommitted := func(atLeast int) {
		if len(committed) == 0 || len(committed) < atLeast || connErr != nil {
			return
		}
		connErr = p.moveCommitted(mc, r, committed)
		committed = nil
	}

	// Each batch is cut when it is fetched, with the bound as the stored
	// batches left it.
	for rest := sized; len(rest) > 0; {
		if ctx.Err() != nil || storeErr != nil || connErr != nil {
			break
		}
		if !p.lease.held() {
			// Another instance may poll the mailbox now: fetch no more.
			// What is in hand is stored and moved; a message both take in
			// is recognised by its key and stored once.
			lost = true
			break
		}
		collect(inFlight >= intakeAhead)
		moveCommitted(moveAtLeast)
		if connErr != nil {
			break
		}
		bound := p.batchBound()
		n := firstBatch(rest, bound.count, bound.bytes)
		batch := rest[:n]
		rest = rest[n:]
		b, arrived, err := p.fetchBatch(mc, r, batch)
		if err != nil {
			connErr = err
			break
		}
		if !arrived {
			continue
		}
		inFlight++
		toParse <- b
	}
	close(toParse)
	for inFlight > 0 {
		collect(true)
	}
	moveCommitted(0)
	if lost {
		return errors.Join(errLeaseLost, connErr, storeErr)
	}
	return cmpErr(connErr, storeErr)
}

// cmpErr keeps the first error.
func cmpErr(first, next error) error {
	if first != nil {
		return first
	}
	return next
}

// fetchBatch fetches the bodies of one batch. A NO for some messages is a
// problem of the round, and what did arrive is taken in; arrived is false
// when nothing did.
func (p *Poller) fetchBatch(mc *mailConn, r *roundResult, batch []sizedUID) (b *intakeBatch, arrived bool, err error) {
	uids := make([]imap.UID, len(batch))
	cut := false
	for i, s := range batch {
		uids[i] = s.uid
		cut = cut || s.size > p.cfg.BatchBytes
	}
	mails, err := mc.fetchBodies(uids, p.cfg.BatchBytes, cut)
	if err != nil {
		if !isStatusError(err) {
			return nil, false, err
		}
		r.problem = errors.Join(r.problem, err) // take in what did arrive
	}
	if len(mails) == 0 {
		return nil, false, nil
	}
	in := make([]cases.InboundMail, len(mails))
	for i, m := range mails {
		in[i] = cases.InboundMail{Mailbox: p.source, UIDValidity: r.uidValidity, UID: uint32(m.uid), Raw: m.raw}
	}
	return &intakeBatch{mails: mails, in: in}, true, nil
}

// count adds what a committed batch did to the round.
func (p *Poller) count(r *roundResult, b *intakeBatch) {
	r.fetched += len(b.in)
	for _, o := range b.out {
		switch {
		case o.Again:
			r.again++
		case o.Disposition == cases.DispositionReport:
			r.reports++
		default:
			r.ignored++
		}
	}
	r.lastUID = max(r.lastUID, uint32(b.mails[len(b.mails)-1].uid))
}

// moveCommitted moves committed messages out of the folder in one
// command. A NO leaves them stored but in the folder, to be recognised and
// moved next round; only a broken connection is returned.
func (p *Poller) moveCommitted(mc *mailConn, r *roundResult, uids []imap.UID) error {
	if err := mc.move(uids); err != nil {
		if isStatusError(err) {
			r.problem = errors.Join(r.problem, err)
			return nil
		}
		return err
	}
	r.moved += len(uids)
	r.waiting -= len(uids)
	return nil
}
