package memrank

import (
	"bytes"
	"encoding/binary"
	"hash/maphash"
	"math"
)

// members is a board's member ids and scores, kept free of Go pointers: a
// board of a million members held as strings in a map and in the tree is
// two million pointers, which the collector scans on every cycle, and any
// allocation anywhere in the process brings the next cycle closer. Here a
// member's id is the offset of its name in one arena (a length byte or
// more, then the bytes), and an open-addressing hash table of integers
// maps names to ids and scores. The id is an offset, not an index into a
// table of offsets, so that reading a name costs one cache miss, not two.
//
// Ids are not reused: a removed member's name stays in the arena, so that
// the tree's stale routing keys (see inner) still compare correctly. When
// removed members outnumber live ones the board is compacted (see
// board.compact), which renumbers everything at once.
type members struct {
	arena []byte
	// slots is a linear-probing table, the score next to the key so that
	// a lookup reads one line of it. A key is 0 when empty, otherwise the
	// low 32 bits of the member's hash (which give its home slot and
	// filter probes before names are compared) above id+1.
	slots   []slot
	live    int
	removed int // since the last compaction
	seed    maphash.Seed
	// common is the longest prefix (up to maxCommon bytes) that every
	// name in the arena shares; sort keys are taken just after it (see
	// sortKey).
	common []byte
}

// maxCommon bounds the shared prefix a sort key skips.
const maxCommon = 64

type slot struct {
	key   uint64
	score float64
}

func newMembers(capacity int) members {
	return members{seed: maphash.MakeSeed(), slots: make([]slot, tableSize(capacity))}
}

// tableSize keeps the table at most 3/4 full, a power of two.
func tableSize(n int) int {
	s := 16
	for s*3 < n*4+4 {
		s *= 2
	}
	return s
}

func (m *members) name(id uint32) []byte {
	if n := m.arena[id]; n < 0x80 { // names under 128 bytes
		return m.arena[id+1 : id+1+uint32(n)]
	}
	n, k := binary.Uvarint(m.arena[id:])
	start := int(id) + k
	return m.arena[start : start+int(n)]
}

// meanName returns the mean length of the names in the arena, removed
// ones included, rounded up: each takes its length's byte and its bytes.
func (m *members) meanName() int {
	n := m.live + m.removed
	if n == 0 {
		return 0
	}
	names := len(m.arena) - n
	return (names + n - 1) / n
}

func (m *members) hash(s string) uint32 { return uint32(maphash.String(m.seed, s)) }

// find returns the id of member s, and the slot that holds it.
func (m *members) find(s string) (id uint32, slot int, ok bool) {
	h := m.hash(s)
	mask := len(m.slots) - 1
	for i := int(h) & mask; ; i = (i + 1) & mask {
		e := m.slots[i].key
		if e == 0 {
			return 0, 0, false
		}
		if uint32(e>>32) == h {
			id := uint32(e) - 1
			if string(m.name(id)) == s {
				return id, i, true
			}
		}
	}
}

// add gives s, which must not be a member, a new id. rekey reports that s
// shortened the prefix every name shares, which changes every sort key:
// the caller must recompute those it holds (tree.rekey) before it uses
// s's.
func (m *members) add(s string, score float64) (id uint32, rekey bool) {
	if len(m.arena) == 0 {
		m.common = []byte(s[:min(len(s), maxCommon)])
	} else if n := sharedPrefix(m.common, s); n < len(m.common) {
		m.common, rekey = m.common[:n], true
	}
	if (m.live+1)*4 > len(m.slots)*3 {
		m.rehash(len(m.slots) * 2)
	}
	if len(m.arena)+len(s)+binary.MaxVarintLen64 >= math.MaxUint32 {
		panic("memrank: a board's member ids exceed 4 GiB")
	}
	id = uint32(len(m.arena))
	m.arena = binary.AppendUvarint(m.arena, uint64(len(s)))
	m.arena = append(m.arena, s...)
	m.insertSlot(slot{uint64(m.hash(s))<<32 | uint64(id+1), score})
	m.live++
	return id, rekey
}

func sharedPrefix(a []byte, b string) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

// sortKey returns the eight bytes of name s that follow the prefix every
// name shares, as a big-endian number (zeros past the end of s). Names
// that compare a < b have sortKey(a) <= sortKey(b), so equal scores are
// ordered by their keys, which the tree keeps in its nodes, and only
// equal keys need the names themselves: a name is a cache miss in the
// arena, and boards are full of ties (counts, whole metres, seconds).
// Skipping the shared prefix matters: ids minted at nearby times, or
// "athlete-…" names, share their first bytes.
func (m *members) sortKey(s string) uint64 { return keyAfter(s, len(m.common)) }

// idKey is sortKey of the member with id.
func (m *members) idKey(id uint32) uint64 { return keyAfter(m.name(id), len(m.common)) }

func keyAfter[Name string | []byte](name Name, skip int) uint64 {
	var k [8]byte
	if len(name) > skip {
		copy(k[:], name[skip:])
	}
	return binary.BigEndian.Uint64(k[:])
}

func (m *members) insertSlot(e slot) {
	mask := len(m.slots) - 1
	i := int(e.key>>32) & mask
	for m.slots[i].key != 0 {
		i = (i + 1) & mask
	}
	m.slots[i] = e
}

func (m *members) rehash(size int) {
	old := m.slots
	m.slots = make([]slot, size)
	for _, e := range old {
		if e.key != 0 {
			m.insertSlot(e)
		}
	}
}

// remove empties slot i (from find) by shifting back the entries of its
// probe run that may no longer be reachable past the hole, so that the
// table needs no tombstones.
func (m *members) remove(i int) {
	mask := len(m.slots) - 1
	m.live--
	m.removed++
	for {
		m.slots[i] = slot{}
		j := i
		for {
			j = (j + 1) & mask
			e := m.slots[j]
			if e.key == 0 {
				return
			}
			home := int(e.key>>32) & mask
			// The entry at j stays if its home lies cyclically in (i, j].
			if i <= j {
				if i < home && home <= j {
					continue
				}
			} else if i < home || home <= j {
				continue
			}
			m.slots[i] = e
			i = j
			break
		}
	}
}

// less is ranker.Less on items: higher score first, then member ascending.
func (m *members) less(a, b item) bool {
	if a.score != b.score {
		return a.score > b.score
	}
	return m.tieLess(a.key, a.id, b.key, b.id)
}

// tieLess orders two members of equal score: by sort key, and by name
// only when the keys are equal.
func (m *members) tieLess(aKey uint64, a uint32, bKey uint64, b uint32) bool {
	if aKey != bKey {
		return aKey < bKey
	}
	return m.nameLess(a, b)
}

func (m *members) nameLess(a, b uint32) bool {
	return a != b && bytes.Compare(m.name(a), m.name(b)) < 0
}
