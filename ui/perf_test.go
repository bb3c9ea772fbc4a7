package ui

import (
	"context"
	"image"
	"math/rand/v2"
	"strings"
	"testing"

	"kite/app"
)

var benchWords = strings.Fields(`hi ok sure later tonight coffee lunch dinner trip bike walk
	work meeting code test bus home office mountain music movie game sunny wind
	thanks awesome nice cool haha love call book ready soon maybe where when why`)

// benchText is a message of 1 to 30 demo words.
func benchText(rng *rand.Rand) string {
	words := make([]string, 1+rng.IntN(30))
	for j := range words {
		words[j] = benchWords[rng.IntN(len(benchWords))]
	}
	return strings.Join(words, " ")
}

// chats adds k group chats with bob to w, each holding n messages from
// both sides with texts never measured before, as the demo seeds them.
func chats(tb testing.TB, w *world, k, n int) []app.ConvID {
	tb.Helper()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	var out []app.ConvID
	for c := range k {
		g, err := w.me.svc.CreateGroup(ctx, "Chat "+itoa(c), []app.PeerKey{w.bob.key}, false)
		if err != nil {
			tb.Fatal(err)
		}
		deliver(tb, w.me, w.bob, g)
		for i := range n {
			from := w.me
			if i%3 == 0 {
				from = w.bob
			}
			if _, err := from.svc.SendText(ctx, g, benchText(rng)+" "+itoa(c*n+i), app.EventID{}); err != nil {
				tb.Fatal(err)
			}
		}
		deliver(tb, w.bob, w.me, g)
		out = append(out, g)
	}
	return out
}

// BenchmarkOpenConversation opens a chat in an idle window, from the
// click to its newest page applied on the UI thread. Every open is of a
// chat not opened before, so no text has been measured yet.
func BenchmarkOpenConversation(b *testing.B) {
	w := newWorld(b)
	convs := chats(b, w, 20, 60)
	u := w.u
	i := 0
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		u.showEmpty()
		settle(u)
		b.StartTimer()
		u.openConv(convs[i%len(convs)])
		settle(u)
		i++
	}
	b.StopTimer()
	if len(u.conv.rows) < pageSize {
		b.Fatalf("got %d rows, want at least %d", len(u.conv.rows), pageSize)
	}
}

// TestPeopleComeWithTheirPage: the window reads people when a page names
// them, not everyone at start.
func TestPeopleComeWithTheirPage(t *testing.T) {
	w := newWorld(t)
	u := w.u
	ctx := context.Background()
	deliver(t, w.me, w.bob, w.group)
	if _, err := w.bob.svc.SendText(ctx, w.group, "count me in", app.EventID{}); err != nil {
		t.Fatal(err)
	}
	deliver(t, w.bob, w.me, w.group)
	if n := len(u.people); n != 0 {
		t.Fatalf("people read at start: got %d, want 0", n)
	}
	u.openConv(w.group)
	settle(u)
	bob, err := w.me.svc.Person(ctx, w.bob.key)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := u.name(w.bob.key), bob.DisplayName(); got != want || want == (app.Person{Key: w.bob.key}).DisplayName() {
		t.Errorf("name of the author on the page: got %q, want %q (not the key)", got, want)
	}
	if _, ok := u.people[w.carol.key]; ok {
		t.Errorf("carol wrote nothing on the page but was read")
	}
	var named bool
	for _, r := range u.conv.rows {
		if r.kind == rowMsg && r.showName && u.conv.msgs[r.msg].Author == w.bob.key {
			named = true
		}
	}
	if !named {
		t.Errorf("bob's message in the group shows no name row")
	}
}

// TestAvatarCacheIsBounded: pictures are kept for the most recently
// shown people only.
func TestAvatarCacheIsBounded(t *testing.T) {
	c := newAvatarCache(nil)
	img := image.NewGray(image.Rect(0, 0, 1, 1))
	key := func(i int) app.PeerKey { return app.PeerKey{byte(i), byte(i >> 8)} }
	k0 := key(0)
	c.put(k0, img)
	for i := 1; i < 3*avatarCacheSize; i++ {
		c.put(key(i), img)
		if i%2 == 0 {
			c.lookup(k0[:], nil) // keeps being shown
		}
	}
	if n := len(c.imgs); n != avatarCacheSize {
		t.Fatalf("got %d pictures kept, want %d", n, avatarCacheSize)
	}
	if _, ok := c.imgs[key(0)]; !ok {
		t.Error("the picture shown all along was dropped")
	}
	if _, ok := c.imgs[key(1)]; ok {
		t.Error("an early picture not shown since was kept")
	}
	if _, ok := c.imgs[key(3*avatarCacheSize-1)]; !ok {
		t.Error("the newest picture was dropped")
	}
}

// TestRebuildKeepsTheView: rebuilding the rows (a new message, a resize,
// older pages) leaves the list where the person scrolled it.
func TestRebuildKeepsTheView(t *testing.T) {
	w := newWorld(t)
	g := chats(t, w, 1, 3*pageSize)[0]
	u := w.u
	u.openConv(g)
	settle(u)
	v := u.conv
	total := v.rowOffset(len(v.rows))
	if total < 3*v.list.Size().Height {
		t.Fatalf("content %v high in a list %v high: too short to scroll", total, v.list.Size().Height)
	}
	v.list.ScrollToOffset(total / 3)
	want := v.list.GetScrollOffset()
	v.rebuild(false)
	if got := v.list.GetScrollOffset(); got != want {
		t.Fatalf("offset after a rebuild: got %v, want %v", got, want)
	}
	// An older page keeps the same message at the same place.
	first := v.msgs[0].ID
	top := v.rowOffset(v.rowOf(first)) - v.list.GetScrollOffset()
	v.loadOlder()
	settle(u)
	if got := v.rowOffset(v.rowOf(first)) - v.list.GetScrollOffset(); got != top {
		t.Fatalf("the first message moved from %v to %v on screen after an older page", top, got)
	}
}

// TestScrollingUpLoadsOnePage: reaching the top asks for one older page,
// not a chain of them.
func TestScrollingUpLoadsOnePage(t *testing.T) {
	w := newWorld(t)
	g := chats(t, w, 1, 5*pageSize)[0]
	u := w.u
	u.openConv(g)
	settle(u)
	v := u.conv
	if len(v.msgs) != pageSize || !v.hasOlder {
		t.Fatalf("first page: %d messages, older %v", len(v.msgs), v.hasOlder)
	}
	v.list.ScrollToTop()
	settle(u)
	if got := len(v.msgs); got != 2*pageSize {
		t.Fatalf("after scrolling to the top once: got %d messages loaded, want %d", got, 2*pageSize)
	}
	if v.list.GetScrollOffset() < 80 {
		t.Errorf("the view stayed at the top (offset %v) instead of on the message it showed", v.list.GetScrollOffset())
	}
}
