package memrank

import (
	"math/bits"
	"slices"
)

// The board's order is kept in a B+ tree whose inner nodes count the items
// under each child, so that the position of an item (its rank) and the item
// at a position are found in one descent: O(log n) with a wide fan-out,
// which keeps the tree four levels deep at a million members.
//
// The nodes are laid out for the cache. A node is one fixed-size block with
// its scores in one array, its members' sort keys in another and their ids
// in a third (not an array of {score, key, id}), so that a search reads
// only the scores — 8 bytes an entry — and, between equal scores, the sort
// keys; names are read only between equal keys. Searches are linear scans,
// not binary searches: a scan's loads do not depend on each other, so the
// processor fetches the lines of a node together, where a binary search
// waits for one miss after another. A leaf is 1,272 bytes, 20 cache lines.
//
// The nodes hold no Go pointers: they live in pools of pages and refer to
// each other by index (see pool), so the collector never looks inside the
// tree. Leaves are linked to their neighbours, so that a page of the board
// is one descent and then a walk.

const (
	leafMax  = 63 // items per leaf
	leafMin  = leafMax / 2
	innerMax = 128 // children per inner node
	innerMin = innerMax / 2
)

// none is the index of no node: the ends of the leaf list.
const none = ^uint32(0)

// item is one member in the tree's order (see members.less): key is the
// member's sort key (members.sortKey), which orders equal scores without
// reading names.
type item struct {
	score float64
	key   uint64
	id    uint32
}

type leaf struct {
	scores     [leafMax]float64
	keys       [leafMax]uint64
	ids        [leafMax]uint32
	n          int32
	prev, next uint32
}

// inner is an inner node. Key i (scores[i], keys[i], ids[i]) is a lower
// bound of every item under kids[i] and above every item under kids[i-1];
// key 0 is not used for routing. Bounds may go stale (below the child's first item)
// after deletions; they stay valid.
type inner struct {
	scores [innerMax]float64
	keys   [innerMax]uint64
	ids    [innerMax]uint32
	counts [innerMax]uint32 // counts[i] is the number of items under kids[i]
	kids   [innerMax]uint32 // leaves if the node is just above them, else inner nodes
	n      int32
}

// A small tree keeps its items in tiny, sorted, and has no nodes: a leaf
// is 1,272 bytes, and many boards (a club's week, a small race) hold a
// handful of members. A tree leaves tiny when it grows past tinyMax items,
// and goes back only when emptied or rebuilt small (see build).
type tree struct {
	tiny   []item
	*nodes // nil while tiny
	n      int
}

type nodes struct {
	leaves pool[leaf]
	inners pool[inner]
	root   uint32
	height int // levels of inner nodes: 0 if the root is a leaf
}

const tinyMax = leafMin + 1

// isTiny reports whether the items are in tiny (all of them, or none).
func (t *tree) isTiny() bool { return t.nodes == nil }

// tinyPos returns the index of the first item of tiny not before it.
func (t *tree) tinyPos(m *members, it item) int {
	i := 0
	for i < len(t.tiny) && t.tiny[i].score > it.score {
		i++
	}
	for i < len(t.tiny) && t.tiny[i].score == it.score && m.tieLess(t.tiny[i].key, t.tiny[i].id, it.key, it.id) {
		i++
	}
	return i
}

// tinyLeaf copies the items of a tiny tree into *l, a leaf of no pool,
// for the readers that walk leaves.
func (t *tree) tinyLeaf(l *leaf) {
	for i, it := range t.tiny {
		l.scores[i], l.keys[i], l.ids[i] = it.score, it.key, it.id
	}
	l.n, l.prev, l.next = int32(len(t.tiny)), none, none
}

func (l *leaf) item(i int) item { return item{l.scores[i], l.keys[i], l.ids[i]} }

// above returns the number of leading entries of s, which is sorted from
// the highest, above x. It first compares x with every eighth entry, one
// per cache line: those loads do not wait for each other, so a node's
// lines arrive together, and the scan that follows stays within one line.
func above(s []float64, x float64) int {
	c := 0
	for j := 8; j < len(s); j += 8 {
		if s[j] > x {
			c++
		}
	}
	i := c * 8
	for i < len(s) && s[i] > x {
		i++
	}
	return i
}

// lowerBound returns the index of the first item of l not before it.
func (l *leaf) lowerBound(m *members, it item) int {
	s := l.scores[:l.n]
	i := above(s, it.score)
	j := i + equalRun(s[i:], it.score)
	return i + firstNotBefore(m, l.keys[i:j], l.ids[i:j], it)
}

// equalRun returns the number of leading entries of s equal to x.
func equalRun(s []float64, x float64) int {
	n := 0
	for n < len(s) && s[n] == x {
		n++
	}
	return n
}

// firstNotBefore returns the index of the first of the members (keys and
// ids), of it's score and in name order, not before it. The keys are in
// order, so that index is the number of keys below it's, counted in one
// pass without a branch to mispredict (runs of equal scores are long on
// real boards); names are read from the arena, a cache miss on a large
// board, only between equal keys.
func firstNotBefore(m *members, keys []uint64, ids []uint32, it item) int {
	i := 0
	for _, k := range keys {
		if k < it.key {
			i++
		}
	}
	for i < len(keys) && keys[i] == it.key && m.nameLess(ids[i], it.id) {
		i++
	}
	return i
}

// find returns the index of it in l, or -1. Among equal scores it compares
// ids, not names: no read of the member arena.
func (l *leaf) find(it item) int {
	s := l.scores[:l.n]
	for i := above(s, it.score); i < len(s) && s[i] == it.score; i++ {
		if l.ids[i] == it.id {
			return i
		}
	}
	return -1
}

// pos returns the index of it, which must be in l. A score no other item
// of the leaf has is enough: the ids are read only between equal scores.
func (l *leaf) pos(it item) int {
	s := l.scores[:l.n]
	i := above(s, it.score)
	if i+1 >= len(s) || s[i+1] != it.score {
		return i
	}
	return l.find(it)
}

func (l *leaf) insertAt(i int, it item) {
	n := int(l.n)
	copy(l.scores[i+1:n+1], l.scores[i:n])
	copy(l.keys[i+1:n+1], l.keys[i:n])
	copy(l.ids[i+1:n+1], l.ids[i:n])
	l.scores[i], l.keys[i], l.ids[i] = it.score, it.key, it.id
	l.n++
}

func (l *leaf) removeAt(i int) {
	n := int(l.n)
	copy(l.scores[i:n-1], l.scores[i+1:n])
	copy(l.keys[i:n-1], l.keys[i+1:n])
	copy(l.ids[i:n-1], l.ids[i+1:n])
	l.n--
}

func (in *inner) key(i int) item { return item{in.scores[i], in.keys[i], in.ids[i]} }

func (in *inner) setKey(i int, k item) { in.scores[i], in.keys[i], in.ids[i] = k.score, k.key, k.id }

// route returns the child whose range holds it: the number of keys after
// key 0 not above it.
func (in *inner) route(m *members, it item) int {
	s := in.scores[1:in.n]
	i := above(s, it.score)
	// Among keys of it's score (in name order), those not above it: the
	// ones before it by name, and it itself (a key may be it).
	lo, hi := 1+i, 1+i+equalRun(s[i:], it.score)
	ids := in.ids[lo:hi]
	k := firstNotBefore(m, in.keys[lo:hi], ids, it)
	if k < len(ids) && ids[k] == it.id {
		k++
	}
	return i + k
}

// size returns the number of items under in.
func (in *inner) size() uint32 {
	var s uint32
	for _, c := range in.counts[:in.n] {
		s += c
	}
	return s
}

func (in *inner) insertAt(i int, k item, count, kid uint32) {
	n := int(in.n)
	copy(in.scores[i+1:n+1], in.scores[i:n])
	copy(in.keys[i+1:n+1], in.keys[i:n])
	copy(in.ids[i+1:n+1], in.ids[i:n])
	copy(in.counts[i+1:n+1], in.counts[i:n])
	copy(in.kids[i+1:n+1], in.kids[i:n])
	in.setKey(i, k)
	in.counts[i], in.kids[i] = count, kid
	in.n++
}

func (in *inner) removeAt(i int) {
	n := int(in.n)
	copy(in.scores[i:n-1], in.scores[i+1:n])
	copy(in.keys[i:n-1], in.keys[i+1:n])
	copy(in.ids[i:n-1], in.ids[i+1:n])
	copy(in.counts[i:n-1], in.counts[i+1:n])
	copy(in.kids[i:n-1], in.kids[i+1:n])
	in.n--
}

// nodeLen returns the number of entries of node ref at height h.
func (t *tree) nodeLen(ref uint32, h int) int {
	if h == 0 {
		return int(t.leaves.at(ref).n)
	}
	return int(t.inners.at(ref).n)
}

func (t *tree) newLeaf() (uint32, *leaf) {
	ref := t.leaves.alloc()
	l := t.leaves.at(ref)
	l.prev, l.next = none, none
	return ref, l
}

// insert adds it, which must not be in the tree.
func (t *tree) insert(m *members, it item) {
	if t.isTiny() {
		t.tiny = slices.Insert(t.tiny, t.tinyPos(m, it), it)
		t.n++
		if t.n > tinyMax {
			*t = build(t.tiny)
		}
		return
	}
	if right, key, size, split := t.insertInto(m, t.root, t.height, it); split {
		ref := t.inners.alloc()
		in := t.inners.at(ref)
		in.n = 2
		in.kids[0], in.kids[1] = t.root, right
		in.counts[0], in.counts[1] = uint32(t.n+1)-size, size
		in.setKey(1, key)
		t.root = ref
		t.height++
	}
	t.n++
}

// insertInto adds it under node ref at height h; if the node overflows, it
// splits and returns the new right sibling, the lower bound of its items
// and their number.
func (t *tree) insertInto(m *members, ref uint32, h int, it item) (right uint32, key item, size uint32, split bool) {
	if h == 0 {
		l := t.leaves.at(ref)
		p := l.lowerBound(m, it)
		if l.n < leafMax {
			l.insertAt(p, it)
			return
		}
		r, rl := t.newLeaf()
		const mid = (leafMax + 1) / 2
		copy(rl.scores[:], l.scores[mid:])
		copy(rl.keys[:], l.keys[mid:])
		copy(rl.ids[:], l.ids[mid:])
		rl.n, l.n = leafMax-mid, mid
		rl.prev, rl.next = ref, l.next
		if l.next != none {
			t.leaves.at(l.next).prev = r
		}
		l.next = r
		if p <= mid {
			l.insertAt(p, it)
		} else {
			rl.insertAt(p-mid, it)
		}
		return r, rl.item(0), uint32(rl.n), true
	}
	in := t.inners.at(ref)
	i := in.route(m, it)
	in.counts[i]++
	kr, kk, ks, ksplit := t.insertInto(m, in.kids[i], h-1, it)
	if !ksplit {
		return
	}
	in.counts[i] -= ks
	if in.n < innerMax {
		in.insertAt(i+1, kk, ks, kr)
		return
	}
	r := t.inners.alloc()
	rn := t.inners.at(r)
	const mid = innerMax / 2
	copy(rn.scores[:], in.scores[mid:])
	copy(rn.keys[:], in.keys[mid:])
	copy(rn.ids[:], in.ids[mid:])
	copy(rn.counts[:], in.counts[mid:])
	copy(rn.kids[:], in.kids[mid:])
	rn.n, in.n = innerMax-mid, mid
	if i+1 <= mid {
		in.insertAt(i+1, kk, ks, kr)
	} else {
		rn.insertAt(i+1-mid, kk, ks, kr)
	}
	return r, rn.key(0), rn.size(), true
}

// delete removes it, which must be in the tree.
func (t *tree) delete(m *members, it item) {
	if t.isTiny() {
		if p := t.tinyPos(m, it); p < len(t.tiny) && t.tiny[p] == it {
			t.tiny = slices.Delete(t.tiny, p, p+1)
			t.n--
		}
		return
	}
	if !t.deleteFrom(m, t.root, t.height, it) {
		return
	}
	t.n--
	if t.n == 0 {
		*t = tree{} // drops the pools
		return
	}
	if t.height > 0 {
		if in := t.inners.at(t.root); in.n == 1 {
			old := t.root
			t.root = in.kids[0]
			t.height--
			t.inners.release(old)
		}
	}
}

func (t *tree) deleteFrom(m *members, ref uint32, h int, it item) bool {
	if h == 0 {
		l := t.leaves.at(ref)
		p := l.find(it)
		if p < 0 {
			return false
		}
		l.removeAt(p)
		return true
	}
	in := t.inners.at(ref)
	i := in.route(m, it)
	if !t.deleteFrom(m, in.kids[i], h-1, it) {
		return false
	}
	in.counts[i]--
	least := innerMin
	if h == 1 {
		least = leafMin
	}
	if t.nodeLen(in.kids[i], h-1) < least {
		t.rebalance(in, i, h-1)
	}
	return true
}

// rebalance refills the underflowing child i of in, at height h, from a
// sibling, or merges it with one.
func (t *tree) rebalance(in *inner, i, h int) {
	least := innerMin
	if h == 0 {
		least = leafMin
	}
	switch {
	case i > 0 && t.nodeLen(in.kids[i-1], h) > least:
		if h == 0 {
			left, kid := t.leaves.at(in.kids[i-1]), t.leaves.at(in.kids[i])
			x := left.item(int(left.n) - 1)
			left.n--
			kid.insertAt(0, x)
			in.setKey(i, x)
			in.counts[i-1]--
			in.counts[i]++
			return
		}
		left, kid := t.inners.at(in.kids[i-1]), t.inners.at(in.kids[i])
		last := int(left.n) - 1
		c, k, cc := left.kids[last], left.key(last), left.counts[last]
		left.n--
		// The child's old first subtree now needs a real bound: the
		// parent's bound for the whole child is one.
		kid.setKey(0, in.key(i))
		kid.insertAt(0, item{}, cc, c)
		in.setKey(i, k)
		in.counts[i-1] -= cc
		in.counts[i] += cc
	case i+1 < int(in.n) && t.nodeLen(in.kids[i+1], h) > least:
		if h == 0 {
			right, kid := t.leaves.at(in.kids[i+1]), t.leaves.at(in.kids[i])
			x := right.item(0)
			right.removeAt(0)
			kid.insertAt(int(kid.n), x)
			in.setKey(i+1, right.item(0))
			in.counts[i+1]--
			in.counts[i]++
			return
		}
		right, kid := t.inners.at(in.kids[i+1]), t.inners.at(in.kids[i])
		c, cc := right.kids[0], right.counts[0]
		kid.insertAt(int(kid.n), in.key(i+1), cc, c)
		in.setKey(i+1, right.key(1))
		right.removeAt(0)
		in.counts[i+1] -= cc
		in.counts[i] += cc
	case i > 0:
		t.merge(in, i-1, h)
	case i+1 < int(in.n):
		t.merge(in, i, h)
	}
}

// merge moves child j+1 of in, at height h, into child j and frees it.
func (t *tree) merge(in *inner, j, h int) {
	lr, rr := in.kids[j], in.kids[j+1]
	if h == 0 {
		left, right := t.leaves.at(lr), t.leaves.at(rr)
		n, rn := int(left.n), int(right.n)
		copy(left.scores[n:n+rn], right.scores[:rn])
		copy(left.keys[n:n+rn], right.keys[:rn])
		copy(left.ids[n:n+rn], right.ids[:rn])
		left.n += right.n
		left.next = right.next
		if right.next != none {
			t.leaves.at(right.next).prev = lr
		}
		t.leaves.release(rr)
	} else {
		left, right := t.inners.at(lr), t.inners.at(rr)
		right.setKey(0, in.key(j+1))
		n, rn := int(left.n), int(right.n)
		copy(left.scores[n:n+rn], right.scores[:rn])
		copy(left.keys[n:n+rn], right.keys[:rn])
		copy(left.ids[n:n+rn], right.ids[:rn])
		copy(left.counts[n:n+rn], right.counts[:rn])
		copy(left.kids[n:n+rn], right.kids[:rn])
		left.n += right.n
		t.inners.release(rr)
	}
	in.counts[j] += in.counts[j+1]
	in.removeAt(j + 1)
}

// rekey recomputes every sort key the tree holds, routing keys included,
// after the members' shared prefix shortened (members.add): O(n), and a
// board's prefix shortens at most maxCommon times between compactions. It
// reads every name, under the write lock: 9 ms on a rebuilt board of a
// million (names in rank order), 71 ms on one of 1.5 million whose names
// live writes scattered (docs/benchmarks.md). Boards of time-ordered ids
// shorten their prefix rarely: it is short once their members span days.
func (t *tree) rekey(m *members) {
	if t.isTiny() {
		for i := range t.tiny {
			t.tiny[i].key = m.idKey(t.tiny[i].id)
		}
		return
	}
	t.rekeyFrom(m, t.root, t.height)
}

func (t *tree) rekeyFrom(m *members, ref uint32, h int) {
	if h == 0 {
		l := t.leaves.at(ref)
		for i := range l.n {
			l.keys[i] = m.idKey(l.ids[i])
		}
		return
	}
	in := t.inners.at(ref)
	// Key 0 too: it does not route, but it becomes a routing key when
	// the node is merged into its left sibling. Where it is a placeholder
	// (rebalance), its id is 0, a name like any other.
	for i := range in.n {
		in.keys[i] = m.idKey(in.ids[i])
	}
	for _, kid := range in.kids[:in.n] {
		t.rekeyFrom(m, kid, h-1)
	}
}

// rank returns the 0-based position of it, which must be in the tree.
func (t *tree) rank(m *members, it item) int {
	pos, _, _ := t.where(m, it)
	return pos
}

// where returns the 0-based position of it, which must be in the tree, and
// the leaf and index that hold it (no leaf if the tree is tiny).
func (t *tree) where(m *members, it item) (int, *leaf, int) {
	if t.isTiny() {
		p := t.tinyPos(m, it)
		return p, nil, p
	}
	r := 0
	ref := t.root
	for h := t.height; h > 0; h-- {
		in := t.inners.at(ref)
		i := in.route(m, it)
		for _, c := range in.counts[:i] {
			r += int(c)
		}
		ref = in.kids[i]
	}
	l := t.leaves.at(ref)
	i := l.pos(it)
	return r + i, l, i
}

// back returns the leaf and index k positions before index i of l; there
// must be k items before it.
func (t *tree) back(l *leaf, i, k int) (*leaf, int) {
	for k > i {
		k -= i + 1
		l = t.leaves.at(l.prev)
		i = int(l.n) - 1
	}
	return l, i - k
}

// locate returns the leaf holding position pos, which must be below t.n,
// and pos's index in it.
func (t *tree) locate(pos int) (*leaf, int) {
	ref := t.root
	for h := t.height; h > 0; h-- {
		in := t.inners.at(ref)
		i, last := 0, int(in.n)-1
		for i < last && pos >= int(in.counts[i]) {
			pos -= int(in.counts[i])
			i++
		}
		ref = in.kids[i]
	}
	return t.leaves.at(ref), pos
}

// next returns the leaf after l, or nil.
func (t *tree) next(l *leaf) *leaf {
	if l.next == none {
		return nil
	}
	return t.leaves.at(l.next)
}

// appendRange appends the items at positions [lo, hi) to out.
func (t *tree) appendRange(out []item, lo, hi int) []item {
	hi = min(hi, t.n)
	if lo >= hi {
		return out
	}
	if t.isTiny() {
		return append(out, t.tiny[lo:hi]...)
	}
	l, i := t.locate(lo)
	for k := hi - lo; k > 0; l, i = t.next(l), 0 {
		j := min(int(l.n), i+k)
		for ; i < j; i++ {
			out = append(out, l.item(i))
			k--
		}
	}
	return out
}

// build returns a tree of items, which must be sorted by members.less and
// distinct, in O(n): the rebuild path, far cheaper than n inserts.
func build(items []item) tree {
	if len(items) <= tinyMax {
		var t tree
		if len(items) > 0 {
			t.tiny, t.n = slices.Clone(items), len(items)
		}
		return t
	}
	t := tree{nodes: &nodes{}}
	gs := groups(len(items), leafMax)
	level := make([]uint32, 0, len(gs))
	firsts := make([]item, 0, len(gs))
	sizes := make([]uint32, 0, len(gs))
	prev := none
	for _, g := range gs {
		ref, l := t.newLeaf()
		for i, it := range items[g[0]:g[1]] {
			l.scores[i], l.keys[i], l.ids[i] = it.score, it.key, it.id
		}
		l.n = int32(g[1] - g[0])
		l.prev = prev
		if prev != none {
			t.leaves.at(prev).next = ref
		}
		prev = ref
		level = append(level, ref)
		firsts = append(firsts, items[g[0]])
		sizes = append(sizes, uint32(l.n))
	}
	for len(level) > 1 {
		gs := groups(len(level), innerMax)
		next := make([]uint32, 0, len(gs))
		nextFirsts := make([]item, 0, len(gs))
		nextSizes := make([]uint32, 0, len(gs))
		for _, g := range gs {
			ref := t.inners.alloc()
			in := t.inners.at(ref)
			var size uint32
			for i := g[0]; i < g[1]; i++ {
				k := i - g[0]
				in.kids[k], in.counts[k] = level[i], sizes[i]
				in.setKey(k, firsts[i])
				size += sizes[i]
			}
			in.n = int32(g[1] - g[0])
			next = append(next, ref)
			nextFirsts = append(nextFirsts, firsts[g[0]])
			nextSizes = append(nextSizes, size)
		}
		level, firsts, sizes = next, nextFirsts, nextSizes
		t.height++
	}
	t.root, t.n = level[0], len(items)
	return t
}

// groups splits n into the fewest runs of at most most, of even sizes, so
// that every run but a lone one holds at least most/2.
func groups(n, most int) [][2]int {
	k := (n + most - 1) / most
	out := make([][2]int, 0, k)
	start := 0
	for i := range k {
		end := n * (i + 1) / k
		out = append(out, [2]int{start, end})
		start = end
	}
	return out
}

// pool holds a tree's nodes of one kind in pages that never move, so that
// a node is named by a uint32 index and a *T stays valid while others are
// added. The first pages grow (1, 1, 2, 4, ... 32 nodes), so that a small
// board costs a node or two, not a page; from index 64 on, pages are 64
// nodes.
type pool[T any] struct {
	pages [][]T
	free  []uint32
	next  uint32 // indices below next have been handed out
}

const (
	pageBits = 6
	pageSize = 1 << pageBits
)

// pageOf returns the page and the index in it of node i.
func pageOf(i uint32) (int, uint32) {
	if i < pageSize {
		k := bits.Len32(i)
		return k, i &^ (1 << k >> 1)
	}
	return pageBits + int(i>>pageBits), i & (pageSize - 1)
}

func (p *pool[T]) at(i uint32) *T {
	page, j := pageOf(i)
	return &p.pages[page][j]
}

// alloc returns the index of a zeroed node.
func (p *pool[T]) alloc() uint32 {
	if n := len(p.free); n > 0 {
		i := p.free[n-1]
		p.free = p.free[:n-1]
		var zero T
		*p.at(i) = zero
		return i
	}
	i := p.next
	if i == none {
		panic("memrank: a board's tree exceeds 4 billion nodes")
	}
	if page, _ := pageOf(i); page == len(p.pages) {
		size := pageSize
		if page <= pageBits {
			size = max(1<<page>>1, 1)
		}
		p.pages = append(p.pages, make([]T, size))
	}
	p.next++
	return i
}

func (p *pool[T]) release(i uint32) { p.free = append(p.free, i) }
