package apply

// SetThrottle gives l the policy a run would (zero fields keep the
// current ones), for tests of a limiter on its own.
func (l *Limiter) SetThrottle(t Throttle) { l.setup("space writes", t) }
