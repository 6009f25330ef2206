// Package memqueue is the in-process work queue of `xtsync serve`, the
// single-machine mode: it holds task.Tasks in memory and runs each with
// Process on a pool of workers (its AWS counterpart is pkg/sqsqueue).
// A task is identified by its key (task.Task.Key): that is what coalesces
// and orders it. Process does the work of one task and an error means
// "try again later".
//
// The queue is level-triggered, like the engine it feeds:
//
//   - Coalescing. Enqueueing a task whose key is pending (not yet started)
//     or waiting for a retry is a no-op. Enqueueing a task whose key is
//     running marks it dirty: when the run succeeds the task runs exactly
//     once more, however many enqueues came in meanwhile. A dirty mark on a
//     run that fails is absorbed by the retry (or by parking, on the last
//     attempt).
//   - Per-key order. A key is never processed by two workers at once.
//   - Fairness. Tasks are taken in FIFO order of enqueue; a task that comes
//     back (a dirty re-run, a retry that is due, an unparked task) joins the
//     tail.
//   - Retry and parking. A failed task is retried after Options.Backoff of
//     its consecutive failure count, on a timer of Options.Clock. After
//     Options.MaxAttempts failures in a row it is parked: logged at warn,
//     listed by Queue.Parked, and left alone until a new Queue.Enqueue (a
//     fresh change deserves a try) puts it back with its attempts reset. A
//     success resets the attempt count.
//   - Bounds. At most Options.MaxPending distinct keys wait (pending or
//     waiting for a retry); Enqueue of a new key beyond that returns ErrFull
//     and the caller relies on the periodic reconcile to repair. Parked keys
//     do not count (they are bounded by the number of distinct keys), but
//     the Enqueue that unparks one does.
//
// Delivery is at least once within the process and nothing is persisted:
// a crash, or Close, loses the tasks that were pending or waiting for a
// retry. That is safe because the scheduled full reconcile reads every
// group in scope and repairs whatever a lost task would have synced.
package memqueue
