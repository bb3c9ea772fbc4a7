package app

import (
	"testing"
)

func TestBusSubscribeTakesOnlyWhatItWants(t *testing.T) {
	var b Bus
	all, stopAll := b.Subscribe(8, nil)
	defer stopAll()
	seen, stopSeen := b.Subscribe(8, func(u Update) bool { return u.Kind == UpdSeen })
	defer stopSeen()

	b.Publish(Update{Kind: UpdEvents})
	b.Publish(Update{Kind: UpdSeen})
	b.Publish(Update{Kind: UpdTyping})

	if got := drain(all); len(got) != 3 {
		t.Fatalf("unfiltered subscriber got %d updates, want 3", len(got))
	}
	got := drain(seen)
	if len(got) != 1 || got[0].Kind != UpdSeen {
		t.Fatalf("filtered subscriber got %+v, want one UpdSeen", got)
	}
}

func TestBusObserverRunsInPublisherAfterSubscribers(t *testing.T) {
	var b Bus
	ch, stopSub := b.Subscribe(1, nil)
	defer stopSub()
	var calls []UpdateKind
	stop := b.Observe(func(u Update) {
		// The subscriber already has it: observers come last.
		if len(ch) != 1 {
			t.Errorf("observer ran before the subscriber had the update")
		}
		calls = append(calls, u.Kind)
	})
	b.Publish(Update{Kind: UpdEvents})
	<-ch
	stop()
	b.Publish(Update{Kind: UpdSeen})
	if len(calls) != 1 || calls[0] != UpdEvents {
		t.Fatalf("observer calls %v, want just the update before stop", calls)
	}
}

func TestBusSlowSubscriberLosesRatherThanBlocks(t *testing.T) {
	var b Bus
	ch, stop := b.Subscribe(1, nil)
	defer stop()
	for range 5 {
		b.Publish(Update{Kind: UpdNetwork}) // must not block
	}
	if got := drain(ch); len(got) != 1 {
		t.Fatalf("slow subscriber got %d updates, want the 1 its buffer holds", len(got))
	}
}

func drain(ch <-chan Update) []Update {
	var out []Update
	for {
		select {
		case u := <-ch:
			out = append(out, u)
		default:
			return out
		}
	}
}
