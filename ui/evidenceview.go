package ui

import (
	"container/list"
	"context"
	"errors"
	"sync"
	"time"
)

// The evidence viewer's memory is bounded whatever a mail's size and the
// number of viewers: a mail is rendered once into a view that keeps only
// the start of each body and no attachment bytes, views are cached in a
// small LRU bounded in bytes, viewers of a mail being rendered wait for
// that one render, and at most MaxConcurrentViews renders (or downloads)
// hold a raw mail at once; one more waits ViewWait for a turn, then gets
// a calm 503 page that asks it to try again.

// Defaults and limits of the evidence viewer's options; app's
// configuration asks these.
const (
	DefaultEvidenceViewMaxBytes       = 256 << 10
	MaxEvidenceViewMaxBytes           = 1 << 20
	DefaultEvidenceMaxConcurrentViews = 2
	DefaultEvidenceViewWait           = 5 * time.Second
)

const (
	defaultViewCacheBytes = 32 << 20
	// viewRetryAfter is the Retry-After of the busy page, in seconds.
	viewRetryAfter = "5"
)

// errViewsBusy: every render slot stayed taken for the whole wait.
var errViewsBusy = errors.New("evidence viewer: every render slot is taken")

// ViewLimits bound what ViewMail keeps of a mail.
type ViewLimits struct {
	MaxText int // bytes of each text or HTML body
	Keep    int // the attachment (from 1) whose bytes to keep; 0 keeps none
}

// mailRender is one mail as the viewer shows it, before masking (which
// depends on the session): bodies capped, HTML sanitized, attachments
// without their bytes.
type mailRender struct {
	headers                  []MailHeader
	text                     string
	textClipped, htmlClipped bool
	html                     []byte // sanitized
	attachments              []MailAttachment
	forwarded                *forwardRender
	problems                 []string
}

type forwardRender struct {
	inline                   bool
	headers                  []MailHeader
	text                     string
	html                     []byte // sanitized
	textClipped, htmlClipped bool
}

// bytes is about what r holds, for the cache's bound.
func (r *mailRender) bytes() int64 {
	n := len(r.text) + len(r.html) + 256
	for _, h := range r.headers {
		n += len(h.Name) + len(h.Value) + 32
	}
	for _, a := range r.attachments {
		n += len(a.Name) + len(a.Type) + 64
	}
	for _, p := range r.problems {
		n += len(p) + 16
	}
	if f := r.forwarded; f != nil {
		n += len(f.text) + len(f.html)
		for _, h := range f.headers {
			n += len(h.Name) + len(h.Value) + 32
		}
	}
	return int64(n)
}

// viewKey names one rendering: the mail, its bytes (a purged and re-kept
// mail is another) and the cap it was rendered with.
type viewKey struct {
	mail    int64
	sha256  string
	maxText int
}

// mailViews is the viewer's cache of renders and its render slots.
type mailViews struct {
	slots chan struct{}
	wait  time.Duration

	mu     sync.Mutex
	lru    *list.List // of *cachedView, most recent first
	items  map[viewKey]*list.Element
	held   int64
	max    int64
	flight map[viewKey]*renderFlight
}

type cachedView struct {
	key  viewKey
	r    *mailRender
	size int64
}

// renderFlight is a render in progress that other viewers of the same
// mail wait for instead of rendering it again.
type renderFlight struct {
	done chan struct{}
	r    *mailRender
	err  error
}

func newMailViews(concurrent int, wait time.Duration, cacheBytes int64) *mailViews {
	return &mailViews{slots: make(chan struct{}, concurrent), wait: wait, lru: list.New(),
		items: map[viewKey]*list.Element{}, max: cacheBytes, flight: map[viewKey]*renderFlight{}}
}

// acquire takes a render slot, waiting at most the configured wait;
// release gives it back.
func (m *mailViews) acquire(ctx context.Context) error {
	select {
	case m.slots <- struct{}{}:
		return nil
	default:
	}
	t := time.NewTimer(m.wait)
	defer t.Stop()
	select {
	case m.slots <- struct{}{}:
		return nil
	case <-t.C:
		return errViewsBusy
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (m *mailViews) release() { <-m.slots }

// get returns the render of k from the cache, from a render in progress,
// or from render in a slot of its own.
func (m *mailViews) get(ctx context.Context, k viewKey, render func() (*mailRender, error)) (*mailRender, error) {
	m.mu.Lock()
	if el, ok := m.items[k]; ok {
		m.lru.MoveToFront(el)
		m.mu.Unlock()
		return el.Value.(*cachedView).r, nil
	}
	if f, ok := m.flight[k]; ok {
		m.mu.Unlock()
		select {
		case <-f.done:
			return f.r, f.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	f := &renderFlight{done: make(chan struct{})}
	m.flight[k] = f
	m.mu.Unlock()

	if f.err = m.acquire(ctx); f.err == nil {
		f.r, f.err = render()
		m.release()
	}
	m.mu.Lock()
	delete(m.flight, k)
	if f.err == nil {
		m.put(k, f.r)
	}
	m.mu.Unlock()
	close(f.done)
	return f.r, f.err
}

// put caches r, dropping the least recently used views beyond the bound;
// m.mu is held.
func (m *mailViews) put(k viewKey, r *mailRender) {
	size := r.bytes()
	if size > m.max/4 {
		return // one view may not push out most of the others
	}
	m.items[k] = m.lru.PushFront(&cachedView{key: k, r: r, size: size})
	m.held += size
	for m.held > m.max {
		old := m.lru.Remove(m.lru.Back()).(*cachedView)
		delete(m.items, old.key)
		m.held -= old.size
	}
}

// forget drops every cached view of a mail, once its raw bytes are gone.
func (m *mailViews) forget(mail int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k, el := range m.items {
		if k.mail == mail {
			m.held -= el.Value.(*cachedView).size
			m.lru.Remove(el)
			delete(m.items, k)
		}
	}
}
