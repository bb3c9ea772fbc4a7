package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"time"

	"kite/app/localapi"
	"kite/app/media"
)

// mediaBench measures media between two `kite serve` processes on
// loopback: how soon a big photo's thumbnail can be shown after its event
// arrives, and whether memory stays flat while a 1 GiB file is sent.
func (b *bench) mediaBench(ctx context.Context) error {
	const g = "media"
	base := len(b.rep.Rows)
	b.rep.Rows = append(b.rep.Rows,
		Row{Group: g, Metric: "5 MB photo: its event arrived → thumbnail decoded at the receiver, p50", Unit: "ms", Goal: Goal{"≤", 100}},
		Row{Group: g, Metric: "sending a 1 GiB file: sender's resident memory above idle", Unit: "MB", Goal: Goal{"≤", 64}},
	)
	row := func(i int) *Row { return &b.rep.Rows[base+i] }
	if ok, why := b.haveKite(); !ok {
		return errors.New(why)
	}
	// Each measurement runs on its own fresh pair; one failing still
	// leaves the other.
	if err := b.thumbRow(ctx, row(0)); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		b.logf("  thumbnail: %v", err)
		row(0).Note = "not measured: " + err.Error()
	}
	b.stopAll()
	if err := b.sendMemoryRow(ctx, row(1), 1<<30); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		b.logf("  send memory: %v", err)
		row(1).Note = "not measured: " + err.Error()
	}
	return nil
}

// photoBytes is the size of the photos thumbRow sends.
const photoBytes = 5_000_000

// thumbRow sends noisy ~5 MB JPEGs from A and times, at B, from its
// /v1/events stream announcing each to the thumbnail fetched through its
// local API and decoded as the GUI decodes it.
func (b *bench) thumbRow(ctx context.Context, r *Row) error {
	const photos = 9 // after one warm-up
	a, c, err := b.livePair(ctx)
	if err != nil {
		return fmt.Errorf("start two peers: %w", err)
	}
	defer a.proc.stop()
	defer c.proc.stop()
	arr, err := watchEvents(ctx, c)
	if err != nil {
		return err
	}
	seed := uint64(time.Now().UnixNano())
	b.logf("  thumbnail: %d photos of ~%s MB, noise seed %d", photos+1, num(photoBytes/1e6), seed)
	w, h := 2600, 1950 // about 5 MB of noise at quality 92; corrected below
	var lat []float64
	var thumbW, thumbH, thumbLen, sentLen, blobLen int
	for i := range photos + 1 {
		data, err := noisyJPEG(rand.New(rand.NewPCG(seed, uint64(i))), w, h)
		if err != nil {
			return err
		}
		if i == 0 {
			// Fit the size once: noise compresses evenly.
			k := math.Sqrt(photoBytes / float64(len(data)))
			w, h = int(float64(w)*k), int(float64(h)*k)
			if data, err = noisyJPEG(rand.New(rand.NewPCG(seed, uint64(i))), w, h); err != nil {
				return err
			}
		}
		sentLen = len(data)
		path := filepath.Join(b.tmp, fmt.Sprintf("photo-%d.jpg", i))
		if err := os.WriteFile(path, data, 0o600); err != nil {
			return err
		}
		var sent localapi.Sent
		if err := a.api.Do(ctx, "POST", "/v1/conversations/"+c.peerID+"/files", localapi.FileReq{Path: path}, &sent); err != nil {
			return fmt.Errorf("send photo %d: %w", i, err)
		}
		os.Remove(path)
		id := sent.ID.String()
		timeout := 30 * time.Second
		if i == 0 {
			timeout = 90 * time.Second // the sync session comes up
		}
		arrived, err := arr.wait(ctx, id, timeout)
		if err != nil {
			return fmt.Errorf("photo %d: %w", i, err)
		}
		var th localapi.Thumbnail
		if err := c.api.Do(ctx, "GET", "/v1/messages/"+id+"/thumbnail", nil, &th); err != nil {
			return fmt.Errorf("photo %d: thumbnail: %w", i, err)
		}
		small, err := decodeThumb(th.JPEG)
		if err != nil {
			return fmt.Errorf("photo %d: %w", i, err)
		}
		took := time.Since(arrived)
		thumbW, thumbH, thumbLen = small.Bounds().Dx(), small.Bounds().Dy(), len(th.JPEG)
		if i > 0 {
			lat = append(lat, ms(took))
		}
		// The next photo starts on a quiet pair: B has this one whole.
		if err := waitFile(ctx, c, id, 2*time.Minute); err != nil {
			return fmt.Errorf("photo %d: %w", i, err)
		}
		var m struct {
			Media struct {
				Size int `json:"size"`
			} `json:"media"`
		}
		if err := c.api.Do(ctx, "GET", "/v1/messages/"+id, nil, &m); err != nil {
			return fmt.Errorf("photo %d: %w", i, err)
		}
		blobLen = m.Media.Size
	}
	r.Kite = f(percentile(lat, 50))
	r.Note = fmt.Sprintf("two `kite serve` on 127.0.0.1; A sends noisy %d×%d JPEG files of %s MB with POST /v1/conversations/{peer}/files "+
		"(sent as a %s MB photo once stripped of metadata); "+
		"timed at B from its /v1/events stream announcing the event to the thumbnail fetched with GET /v1/messages/{id}/thumbnail "+
		"(the Service's Message, as the GUI reads it) and decoded as ui/media.go decodeJPEG does (size and pixel caps, image/jpeg); "+
		"thumbnail %d×%d, %s KB; p50 of %d photos after one warm-up, max %s ms; B had each whole photo before the next was sent",
		w, h, num(float64(sentLen)/1e6), num(float64(blobLen)/1e6), thumbW, thumbH, num(float64(thumbLen)/1e3), len(lat), num(percentile(lat, 100)))
	b.logf("  thumbnail shown after p50 %s ms, max %s ms", num(percentile(lat, 50)), num(percentile(lat, 100)))
	return nil
}

// noisyJPEG encodes w×h pixels of noise: a JPEG that does not compress,
// so its size is what a big camera photo weighs.
func noisyJPEG(rng *rand.Rand, w, h int) ([]byte, error) {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := 0; i+8 <= len(img.Pix); i += 8 {
		v := rng.Uint64()
		for j := range 8 {
			img.Pix[i+j] = byte(v >> (8 * j))
		}
	}
	for i := 3; i < len(img.Pix); i += 4 {
		img.Pix[i] = 0xff
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 92}); err != nil {
		return nil, fmt.Errorf("encode photo: %w", err)
	}
	return buf.Bytes(), nil
}

// decodeThumb decodes a thumbnail with the checks of ui/media.go
// decodeJPEG: a size cap, the header against a pixel cap, then the image.
func decodeThumb(b []byte) (image.Image, error) {
	if len(b) == 0 || len(b) > media.MaxThumbBytes {
		return nil, fmt.Errorf("thumbnail of %d bytes", len(b))
	}
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("thumbnail header: %w", err)
	}
	if cfg.Width*cfg.Height > 4*media.ThumbSide*media.ThumbSide {
		return nil, fmt.Errorf("thumbnail of %d×%d", cfg.Width, cfg.Height)
	}
	img, err := jpeg.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("decode thumbnail: %w", err)
	}
	return img, nil
}

// waitFile waits until pp has the whole file of message id.
func waitFile(ctx context.Context, pp *peerProc, id string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		var fp localapi.FilePath
		if pp.api.Do(ctx, "GET", "/v1/messages/"+id+"/file", nil, &fp) == nil && fp.Path != "" {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
	return fmt.Errorf("%s did not have the file after %v", pp.name, timeout)
}

// rssSampler records the resident memory of processes every 50 ms.
type rssSampler struct {
	stop chan struct{}
	done chan struct{}

	mu  sync.Mutex // mu guards the fields below.
	max []float64
	err error
}

func sampleRSS(pids ...int) *rssSampler {
	s := &rssSampler{stop: make(chan struct{}), done: make(chan struct{}), max: make([]float64, len(pids))}
	go func() {
		defer close(s.done)
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			for i, pid := range pids {
				v, err := rssMB(pid)
				s.mu.Lock()
				if err != nil && s.err == nil {
					s.err = err
				}
				s.max[i] = max(s.max[i], v)
				s.mu.Unlock()
			}
			select {
			case <-s.stop:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

// end stops sampling and returns the highest figure of each process.
func (s *rssSampler) end() ([]float64, error) {
	close(s.stop)
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.max, s.err
}

// idleRSS is the median of a process's resident memory over d.
func idleRSS(ctx context.Context, pid int, d time.Duration) (float64, error) {
	var xs []float64
	for end := time.Now().Add(d); time.Now().Before(end); {
		v, err := rssMB(pid)
		if err != nil {
			return 0, err
		}
		xs = append(xs, v)
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return percentile(xs, 50), nil
}

// sendMemoryRow sends a file of size random bytes from A to B and
// records how far A's (and B's) resident memory rose above idle.
func (b *bench) sendMemoryRow(ctx context.Context, r *Row, size int64) error {
	path := filepath.Join(b.tmp, "big.bin")
	seed := uint64(time.Now().UnixNano())
	b.logf("  send memory: writing %s MiB of random bytes (seed %d)", num(float64(size>>20)), seed)
	if err := writeRandom(path, size, seed); err != nil {
		return err
	}
	defer os.Remove(path)
	a, c, err := b.livePair(ctx)
	if err != nil {
		return fmt.Errorf("start two peers: %w", err)
	}
	defer a.proc.stop()
	defer c.proc.stop()
	pa, pc := a.proc.cmd.Process.Pid, c.proc.cmd.Process.Pid
	// Settle after connecting, then take idle as the median of 2 s.
	select {
	case <-time.After(3 * time.Second):
	case <-ctx.Done():
		return ctx.Err()
	}
	var idleA, idleC float64
	var errA, errC error
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); idleA, errA = idleRSS(ctx, pa, 2*time.Second) }()
	go func() { defer wg.Done(); idleC, errC = idleRSS(ctx, pc, 2*time.Second) }()
	wg.Wait()
	if err := errors.Join(errA, errC); err != nil {
		return fmt.Errorf("idle memory: %w", err)
	}
	s := sampleRSS(pa, pc)
	t := time.Now()
	var sent localapi.Sent
	if err := a.api.Do(ctx, "POST", "/v1/conversations/"+c.peerID+"/files", localapi.FileReq{Path: path}, &sent); err != nil {
		s.end()
		return fmt.Errorf("send the file: %w", err)
	}
	imported := time.Since(t)
	err = waitFile(ctx, c, sent.ID.String(), 10*time.Minute)
	took := time.Since(t)
	// A little longer: buffers freed late still count.
	time.Sleep(500 * time.Millisecond)
	peak, serr := s.end()
	if err != nil {
		return err
	}
	if serr != nil {
		return fmt.Errorf("sample memory: %w", serr)
	}
	r.Kite = f(peak[0] - idleA)
	r.Note = fmt.Sprintf("VmRSS of the sending `kite serve` sampled every 50 ms from POST /v1/conversations/{peer}/files of a %s MiB file "+
		"(imported into its blob store in %s s) until the receiver had it whole (%s s in all, %s MB/s): idle %s MB (median of 2 s before), peak %s MB. "+
		"Receiver: idle %s MB, peak %s MB (+%s MB)",
		num(float64(size>>20)), num(imported.Seconds()), num(took.Seconds()), num(float64(size)/took.Seconds()/1e6),
		num(idleA), num(peak[0]), num(idleC), num(peak[1]), num(peak[1]-idleC))
	b.logf("  send memory: sender +%s MB (idle %s, peak %s), receiver +%s MB (idle %s, peak %s), %s s",
		num(peak[0]-idleA), num(idleA), num(peak[0]), num(peak[1]-idleC), num(idleC), num(peak[1]), num(took.Seconds()))
	return nil
}

// writeRandom writes size pseudo-random bytes to path, a chunk at a time.
func writeRandom(path string, size int64, seed uint64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	rng := rand.NewChaCha8([32]byte{0: byte(seed), 1: byte(seed >> 8), 2: byte(seed >> 16), 3: byte(seed >> 24),
		4: byte(seed >> 32), 5: byte(seed >> 40), 6: byte(seed >> 48), 7: byte(seed >> 56)})
	buf := make([]byte, 1<<20)
	for left := size; left > 0; left -= int64(len(buf)) {
		n := min(int64(len(buf)), left)
		rng.Read(buf[:n])
		if _, err := w.Write(buf[:n]); err != nil {
			f.Close()
			return fmt.Errorf("write %s: %w", path, err)
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}
