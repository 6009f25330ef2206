package memqueue

import (
	"time"

	"github.com/xtsync/xtsync/pkg/task"
)

// Behind lists the tasks whose enqueues are not done yet (pending,
// running, retrying or parked) with the time of the oldest enqueue each
// still has to cover: how far behind its changes the work of that task
// is. A task whose enqueues carried no time is left out.
func (q *Queue) Behind() map[task.Task]time.Time {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := make(map[task.Task]time.Time, len(q.entries))
	for _, e := range q.entries {
		r := merge(merge(e.received, e.running), e.next)
		if r.N > 0 && !r.At.IsZero() {
			out[e.task] = r.At
		}
	}
	return out
}
