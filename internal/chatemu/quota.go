package chatemu

import "time"

// class is a quota class: each call is charged to exactly one.
type class uint8

const (
	classSpaceWrite class = iota
	classMemberWrite
	classRead
	numClasses
)

var classNames = [numClasses]string{"space writes", "membership writes", "reads"}

// window is a sliding-window limiter: it accepts a call when fewer than limit
// calls were accepted in the last span. It keeps the times of the last limit
// accepted calls in a ring, so a check is O(1) whatever the rate. Rejected
// calls are not recorded, so they do not count against later ones.
type window struct {
	limit int // 0: no limit
	ring  []time.Time
	head  int // index of the oldest entry once the ring is full
}

// take accepts a call at now, or returns how long until one would be.
func (w *window) take(now time.Time, span time.Duration) (ok bool, wait time.Duration) {
	if w.limit == 0 {
		return true, 0
	}
	if len(w.ring) < w.limit {
		w.ring = append(w.ring, now)
		return true, 0
	}
	oldest := w.ring[w.head]
	if age := now.Sub(oldest); age < span {
		return false, span - age
	}
	w.ring[w.head] = now
	w.head = (w.head + 1) % w.limit
	return true, 0
}
