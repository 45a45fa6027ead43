package ui_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"notme/app"
	"notme/cases"
)

// bigMail is a report mail of about size bytes as a real one comes: a
// text part, a big HTML part and a big base64 attachment.
func bigMail(size int) []byte {
	var m bytes.Buffer
	m.WriteString("From: Hanako <hanako@example.net>\r\nTo: report@desk.example\r\nSubject: not mine, with the photos\r\n" +
		"Message-ID: <big-1@example.net>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n")
	m.WriteString("--b1\r\nContent-Type: multipart/alternative; boundary=\"b2\"\r\n\r\n")
	m.WriteString("--b2\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThis is not my order. Please see the photos.\r\n")
	m.WriteString("--b2\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><body>")
	row := "<p>Dear Hanako Yamada, your order 1002 of 3,000 yen is on its way. <b>Thank you</b> for shopping with us.</p>\r\n"
	for m.Len() < size/5 {
		m.WriteString(row)
	}
	m.WriteString("</body></html>\r\n--b2--\r\n")
	m.WriteString("--b1\r\nContent-Type: application/zip\r\nContent-Disposition: attachment; filename=\"photos.zip\"\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	left := (size - m.Len() - 64) / 78 * 57 // 76 base64 characters and CRLF per 57 bytes
	att := make([]byte, left)
	for i := range att {
		att[i] = byte(i*7 + i>>9)
	}
	enc := base64.StdEncoding.EncodeToString(att)
	for len(enc) > 76 {
		m.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	m.WriteString(enc + "\r\n--b1--\r\n")
	return m.Bytes()
}

// heapInUse is the runtime's HeapInuse, read without stopping the world.
func heapInUse(s []metrics.Sample) uint64 {
	metrics.Read(s)
	return s[0].Value.Uint64() + s[1].Value.Uint64()
}

// BenchmarkEvidenceViewer25MB16: sixteen staff open the evidence viewer
// of one 25 MB mail at once, each loading the page and its HTML frame as
// a browser does. It reports the peak heap in use while they do, the heap
// left afterwards (after a GC), the slowest viewer and how many were told
// to come back later (503).
//
//	go test -run '^$' -bench 'Evidence(Viewer|Download)' -benchtime 1x ./ui
func BenchmarkEvidenceViewer25MB16(b *testing.B) {
	benchEvidence(b, "", "/html")
}

// BenchmarkEvidenceDownload25MB16: sixteen staff download the 25 MB
// mail's big attachment at once.
func BenchmarkEvidenceDownload25MB16(b *testing.B) {
	benchEvidence(b, "/attachments/1")
}

// benchEvidence has sixteen viewers GET each of paths under the viewer of
// one 25 MB mail at once.
func benchEvidence(b *testing.B, paths ...string) {
	const viewers = 16
	d := newDesk(b, func(c *app.Config) { c.Mail.MaxSize = 32 << 20 })
	d.addUser(b, "agent@desk.example", cases.RoleAgent, true)
	raw := bigMail(25 << 20)
	got, err := d.app.Pipeline.Ingest(context.Background(), []cases.InboundMail{{Raw: raw}})
	if err != nil || len(got) != 1 || got[0].MailID == 0 {
		b.Fatalf("Pipeline.Ingest(25 MB mail) = %+v, %v", got, err)
	}
	raw = nil
	base := d.url + fmt.Sprintf("/mail/%d", got[0].MailID)
	agent := d.login(b, "agent@desk.example")

	samples := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/heap/unused:bytes"}}
	var slowest time.Duration
	var peakHeap, afterHeap, before uint64
	var busy atomic.Int64
	for b.Loop() {
		runtime.GC()
		before = heapInUse(samples)
		peakHeap = before
		stop, sampled := make(chan struct{}), make(chan struct{})
		go func() {
			defer close(sampled)
			tick := time.NewTicker(time.Millisecond)
			defer tick.Stop()
			for {
				if h := heapInUse(samples); h > peakHeap {
					peakHeap = h
				}
				select {
				case <-stop:
					return
				case <-tick.C:
				}
			}
		}()
		var wg sync.WaitGroup
		took := make([]time.Duration, viewers)
		errs := make(chan error, viewers)
		for i := range viewers {
			wg.Go(func() {
				start := time.Now()
				for _, p := range paths {
					p = base + p
					resp, err := agent.c.Get(p)
					if err != nil {
						errs <- err
						return
					}
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					switch {
					case err != nil:
						errs <- err
						return
					case resp.StatusCode == http.StatusServiceUnavailable:
						busy.Add(1)
						return
					case resp.StatusCode != http.StatusOK:
						errs <- fmt.Errorf("GET %s = %d", p, resp.StatusCode)
						return
					}
				}
				took[i] = time.Since(start)
			})
		}
		wg.Wait()
		close(stop)
		<-sampled
		close(errs)
		for err := range errs {
			b.Fatal(err)
		}
		for _, t := range took {
			slowest = max(slowest, t)
		}
		runtime.GC()
		afterHeap = heapInUse(samples)
	}
	b.ReportMetric(float64(before)/(1<<20), "before-MB")
	b.ReportMetric(float64(peakHeap)/(1<<20), "peak-MB")
	b.ReportMetric(float64(afterHeap)/(1<<20), "after-MB")
	b.ReportMetric(float64(slowest.Milliseconds()), "slowest-ms")
	b.ReportMetric(float64(busy.Load()), "busy")
	b.ReportMetric(0, "ns/op")
}
