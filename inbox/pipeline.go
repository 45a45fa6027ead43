package inbox

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"sync"

	"notme/cases"
)

// ParseFunc turns a raw message into what the domain needs to know of it.
type ParseFunc func(raw []byte) cases.ParsedMail

// Pipeline is the one way mail enters the desk, shared by the IMAP poller
// and `notme ingest`: parse each message, then store every message and its
// report in one transaction.
type Pipeline struct {
	svc   *cases.Service
	parse ParseFunc
	log   *slog.Logger
	onAck func()
}

// OnAck sets what to call after a batch that queued acknowledgements is
// committed: the sender's Notify, so that the reporter hears back at once.
func (p *Pipeline) OnAck(f func()) { p.onAck = f }

// NewPipeline returns a pipeline that parses with parse.
func NewPipeline(svc *cases.Service, parse ParseFunc, log *slog.Logger) *Pipeline {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Pipeline{svc: svc, parse: parse, log: log}
}

// Ingest parses and stores a batch. The messages need Raw, and for IMAP
// mail Mailbox, UIDValidity and UID; Parsed is filled here.
func (p *Pipeline) Ingest(ctx context.Context, batch []cases.InboundMail) ([]cases.Ingested, error) {
	p.Parse(batch)
	return p.Store(ctx, batch)
}

// Parse fills Parsed of every message, on all cores: parsing is pure CPU
// work per message, and a batch is the unit the poller hands over.
func (p *Pipeline) Parse(batch []cases.InboundMail) {
	workers := min(runtime.GOMAXPROCS(0), len(batch))
	if workers <= 1 {
		for i := range batch {
			batch[i].Parsed = p.parse(batch[i].Raw)
		}
		return
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			// Striped rather than chunked: big and small mail spread evenly.
			for i := w; i < len(batch); i += workers {
				batch[i].Parsed = p.parse(batch[i].Raw)
			}
		})
	}
	wg.Wait()
}

// Store takes in a batch whose messages Parse has filled, in one
// transaction.
func (p *Pipeline) Store(ctx context.Context, batch []cases.InboundMail) ([]cases.Ingested, error) {
	out, err := p.svc.IngestMail(ctx, batch)
	if err != nil {
		return nil, fmt.Errorf("ingest %d mails: %w", len(batch), err)
	}
	if p.onAck != nil {
		for _, r := range out {
			if r.AckTo != "" {
				p.onAck()
				break
			}
		}
	}
	return out, nil
}
