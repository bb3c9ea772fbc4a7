package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/muxer/yamux"
	"github.com/libp2p/go-libp2p/p2p/security/noise"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
	ma "github.com/multiformats/go-multiaddr"
)

// The bare libp2p floor: two kitebench processes, TCP + Noise + yamux on
// 127.0.0.1, no resource manager, no relay, no discovery.
const (
	echoProto = "/kitebench/echo/1.0.0"
	sinkProto = "/kitebench/sink/1.0.0"
)

func bareHost() (host.Host, error) {
	return libp2p.New(
		libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"),
		libp2p.Transport(tcp.NewTCPTransport),
		libp2p.Security(noise.ID, noise.New),
		libp2p.Muxer(yamux.ID, yamux.DefaultTransport),
		libp2p.ResourceManager(&network.NullResourceManager{}),
		libp2p.DisableRelay(),
	)
}

// echoServer echoes on echoProto and counts what arrives on sinkProto
// (answering the byte count when the writer closes), until a signal
// comes. It prints its address on the first line.
func echoServer(_ []string) error {
	h, err := bareHost()
	if err != nil {
		return err
	}
	defer h.Close()
	h.SetStreamHandler(echoProto, func(s network.Stream) {
		defer s.Close()
		_, _ = io.Copy(s, s)
	})
	h.SetStreamHandler(sinkProto, func(s network.Stream) {
		defer s.Close()
		n, _ := io.Copy(io.Discard, s)
		var b [8]byte
		binary.BigEndian.PutUint64(b[:], uint64(n))
		_, _ = s.Write(b[:])
	})
	addrs := h.Addrs()
	if len(addrs) == 0 {
		return errors.New("echo server: no listen address")
	}
	fmt.Printf("%s/p2p/%s\n", addrs[0], h.ID())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	return nil
}

// echoResult is what echo-client prints as JSON.
type echoResult struct {
	RTTs        []float64 `json:"rtt_ms"`        // round trips of 100 bytes on an open stream
	SmallMsgs   int       `json:"small_msgs"`    // messages in the throughput test
	SmallBytes  int       `json:"small_bytes"`   // size of each
	SmallSecs   float64   `json:"small_seconds"` // until the receiver had them all
	BulkBytes   int64     `json:"bulk_bytes"`
	BulkSecs    float64   `json:"bulk_seconds"`
	ConnectSecs float64   `json:"connect_seconds"`
}

// echoClient ADDR [round trips] [small messages] [bulk MiB] measures the
// floor against an echo server and prints an echoResult.
func echoClient(args []string) error {
	if len(args) < 1 {
		return errors.New("usage: kitebench echo-client ADDR [ROUNDTRIPS] [SMALLMSGS] [BULKMIB]")
	}
	rounds, small, bulkMiB := 2000, 100000, 100
	for i, p := range []*int{&rounds, &small, &bulkMiB} {
		if len(args) > i+1 {
			if _, err := fmt.Sscan(args[i+1], p); err != nil {
				return err
			}
		}
	}
	addr, err := ma.NewMultiaddr(args[0])
	if err != nil {
		return err
	}
	ai, err := peer.AddrInfoFromP2pAddr(addr)
	if err != nil {
		return err
	}
	h, err := bareHost()
	if err != nil {
		return err
	}
	defer h.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var res echoResult
	t := time.Now()
	if err := h.Connect(ctx, *ai); err != nil {
		return err
	}
	res.ConnectSecs = time.Since(t).Seconds()

	// Round trips of 100 bytes on one open stream.
	s, err := h.NewStream(ctx, ai.ID, echoProto)
	if err != nil {
		return err
	}
	msg, back := make([]byte, 100), make([]byte, 100)
	for i := range msg {
		msg[i] = byte(i)
	}
	for i := range 200 + rounds {
		t := time.Now()
		if _, err := s.Write(msg); err != nil {
			return err
		}
		if _, err := io.ReadFull(s, back); err != nil {
			return err
		}
		if i >= 200 {
			res.RTTs = append(res.RTTs, ms(time.Since(t)))
		}
	}
	s.Close()

	// Small messages: length-prefixed, one stream write each, until the
	// receiver has read them all.
	res.SmallMsgs, res.SmallBytes = small, 256
	frame := make([]byte, 2+res.SmallBytes)
	binary.BigEndian.PutUint16(frame, uint16(res.SmallBytes))
	sent, secs, err := sink(ctx, h, ai.ID, func(w io.Writer) (int64, error) {
		var n int64
		for range small {
			k, err := w.Write(frame)
			n += int64(k)
			if err != nil {
				return n, err
			}
		}
		return n, nil
	})
	if err != nil {
		return fmt.Errorf("small messages: %w", err)
	}
	_ = sent
	res.SmallSecs = secs

	// Bulk: bulkMiB in 64 KiB writes.
	chunk := make([]byte, 64<<10)
	res.BulkBytes, res.BulkSecs, err = sink(ctx, h, ai.ID, func(w io.Writer) (int64, error) {
		var n int64
		for n < int64(bulkMiB)<<20 {
			k, err := w.Write(chunk)
			n += int64(k)
			if err != nil {
				return n, err
			}
		}
		return n, nil
	})
	if err != nil {
		return fmt.Errorf("bulk: %w", err)
	}
	return json.NewEncoder(os.Stdout).Encode(res)
}

// sink writes with write on a new sink stream, closes it for writing and
// waits for the receiver's count; it returns the bytes and the seconds
// until the receiver had them all.
func sink(ctx context.Context, h host.Host, p peer.ID, write func(io.Writer) (int64, error)) (int64, float64, error) {
	s, err := h.NewStream(ctx, p, sinkProto)
	if err != nil {
		return 0, 0, err
	}
	defer s.Close()
	t := time.Now()
	n, err := write(s)
	if err != nil {
		return n, 0, err
	}
	if err := s.CloseWrite(); err != nil {
		return n, 0, err
	}
	var b [8]byte
	if _, err := io.ReadFull(s, b[:]); err != nil {
		return n, 0, err
	}
	secs := time.Since(t).Seconds()
	if got := int64(binary.BigEndian.Uint64(b[:])); got != n {
		return n, secs, fmt.Errorf("receiver got %d bytes of %d", got, n)
	}
	return n, secs, nil
}

// echoFloor runs the echo server and client as two processes.
func (b *bench) echoFloor(ctx context.Context, smallMsgs, bulkMiB int) (*echoResult, error) {
	srv, err := b.spawn("echo-server", nil, b.self, "echo-server")
	if err != nil {
		return nil, err
	}
	defer srv.stop()
	var addr string
	select {
	case addr = <-srv.lines:
	case <-time.After(30 * time.Second):
		return nil, errors.New("echo server did not start")
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if addr == "" {
		return nil, fmt.Errorf("echo server: %s", strings.TrimSpace(srv.errb.String()))
	}
	cl, err := b.spawn("echo-client", nil, b.self, "echo-client", addr, "2000", fmt.Sprint(smallMsgs), fmt.Sprint(bulkMiB))
	if err != nil {
		return nil, err
	}
	defer cl.stop()
	var out strings.Builder
	for {
		select {
		case l, ok := <-cl.lines:
			if !ok {
				<-cl.done
				if cl.err != nil {
					return nil, fmt.Errorf("echo client: %v: %s", cl.err, strings.TrimSpace(cl.errb.String()))
				}
				var res echoResult
				if err := json.Unmarshal([]byte(out.String()), &res); err != nil {
					return nil, fmt.Errorf("echo client output: %w", err)
				}
				return &res, nil
			}
			out.WriteString(l)
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}
