package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"notme/cases"
	"notme/inbox"
	"notme/inbox/acksend"
	"notme/internal/wake"
)

// worker is a background job of the desk: it runs until its context ends
// and then lets the unit of work in hand finish.
type worker struct {
	name string
	run  func(context.Context) error
}

// workers builds the pollers of the configured mailboxes and the
// acknowledgement sender.
func (a *App) workers() ([]worker, error) {
	ws := []worker{a.evidencePurger(), {name: "instance heartbeat", run: a.heartbeat}}
	if a.DB.Clock != nil {
		ws = append(ws, a.clockSyncer())
	}
	ws = append(ws, a.ledgerPurger())
	for _, mb := range a.Config.Mail.Mailboxes {
		pw, err := mb.MailboxPassword()
		if err != nil {
			return nil, fmt.Errorf("mail.mailboxes %s: password: %w", mb.Name, err)
		}
		p, err := inbox.NewPoller(a.Config.inboxMailbox(mb, pw, a.instance), a.Pipeline, a.Service, a.Log)
		if err != nil {
			return nil, fmt.Errorf("mail.mailboxes %s: %w", mb.Name, err)
		}
		ws = append(ws, worker{name: "poller " + mb.Name, run: p.Run})
	}
	if len(a.Config.Mail.Mailboxes) > 0 {
		ws = append(ws, worker{name: "mailbox watch", run: a.watchMailboxes})
	}
	ws = append(ws, a.slaWorker())
	if s := a.Config.Mail.SMTP; s.Addr != "" {
		pw, err := s.SMTPPassword()
		if err != nil {
			return nil, fmt.Errorf("mail.smtp: password: %w", err)
		}
		sender, err := acksend.New(acksend.SMTPConfig{
			Addr: s.Addr, Security: s.Security, Username: s.Username, Password: pw,
			From: a.Config.MailAddress(), HelloName: s.HelloName,
		}, a.Service, a.Log.With("worker", "acks"))
		if err != nil {
			return nil, fmt.Errorf("mail.smtp: %w", err)
		}
		a.Pipeline.OnAck(sender.Notify)
		ws = append(ws, worker{name: "acknowledgements", run: sender.Run})
	}
	hooks, ok, err := a.webhookWorker()
	if err != nil {
		return nil, err
	}
	if ok {
		ws = append(ws, hooks)
	}
	return ws, nil
}

// Run serves HTTP on ln and runs the background workers until ctx is done
// (and http.drain has passed) or one of them fails; then everything stops
// and Run waits for all of them.
func (a *App) Run(ctx context.Context, ln net.Listener) error {
	ws, err := a.workers()
	if err != nil {
		ln.Close()
		return err
	}
	// Before any worker starts: a desk restarted after a crash takes back
	// what its dead predecessor held (claims, mailbox leases) at once.
	if err := a.beat(ctx); err != nil {
		a.Log.Warn("desk instance: first heartbeat failed; the heartbeat worker retries", "err", err)
	}
	defer func() {
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := a.Service.LeaveInstance(lctx); err != nil {
			a.Log.Warn("desk instance: leave", "err", err)
		}
	}()
	stop := ctx
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	go func() {
		select {
		case <-stop.Done():
			a.drain(ctx)
			cancel()
		case <-ctx.Done():
		}
	}()
	type result struct {
		name string
		err  error
	}
	done := make(chan result, len(ws)+1)
	go func() { done <- result{"http", a.Serve(ctx, ln)} }()
	for _, w := range ws {
		go func() { done <- result{w.name, w.run(ctx)} }()
	}
	var first error
	for range len(ws) + 1 {
		r := <-done
		if r.err != nil && !errors.Is(r.err, context.Canceled) && first == nil {
			first = fmt.Errorf("%s: %w", r.name, r.err)
			a.Log.Error("worker failed; stopping the desk", "worker", r.name, "err", r.err)
		}
		cancel()
	}
	return first
}

// heartbeat says every cases.InstanceHeartbeat that this instance lives,
// and reaps the instances that do not (cases.Service.Heartbeat).
func (a *App) heartbeat(ctx context.Context) error {
	for wake.Sleep(ctx, cases.InstanceHeartbeat) {
		if err := a.beat(ctx); err != nil && ctx.Err() == nil {
			a.Log.Warn("desk instance: heartbeat failed", "err", err)
		}
	}
	return nil
}

func (a *App) beat(ctx context.Context) error {
	_, err := a.Service.Heartbeat(ctx, cases.InstanceStaleAfter)
	return err
}

// drain fails /readyz for http.drain while the desk goes on working whole,
// so a load balancer sends the next clicks elsewhere before the listener
// closes, and the webhooks of reports filed meanwhile still go out from
// here.
func (a *App) drain(ctx context.Context) {
	d := a.Config.HTTP.Drain.D()
	if d <= 0 {
		return
	}
	a.draining.Store(true)
	a.Log.Info("shutting down: /readyz fails while the desk still works", "drain", d.String())
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// watchMailboxes logs an alert when a mailbox has had no successful fetch
// for mail.stale_after, and again when it recovers; leads see the same on
// their dashboard.
func (a *App) watchMailboxes(ctx context.Context) error {
	staleAfter := a.Config.Mail.StaleAfter.D()
	every := min(time.Minute, staleAfter/2+time.Second)
	t := time.NewTicker(every)
	defer t.Stop()
	alerted := map[string]bool{}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		mbs, err := a.Service.Mailboxes(ctx)
		if err != nil {
			a.Log.Warn("mailbox watch: read mailboxes", "err", err)
			continue
		}
		now := a.Service.Now()
		for _, m := range mbs {
			stale := m.Stale(now, staleAfter)
			switch {
			case stale && !alerted[m.Name]:
				a.Log.Error("mailbox not read: reports sent by mail are waiting", "mailbox", m.Name,
					"last_success", m.LastSuccess, "last_error", m.LastError)
			case !stale && alerted[m.Name]:
				a.Log.Info("mailbox read again", "mailbox", m.Name)
			}
			alerted[m.Name] = stale
		}
	}
}
