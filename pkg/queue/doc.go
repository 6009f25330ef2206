// Package queue is the in-process work queue of the single-machine mode
// (`xtsync serve`). Work items are string keys, each naming a shard of
// source groups whose changes must be synced; Process does the work for
// one key and an error means "try again later".
//
// The queue is level-triggered, like the engine it feeds:
//
//   - Coalescing. Enqueueing a key that is pending (not yet started) or
//     waiting for a retry is a no-op. Enqueueing a key that is running marks
//     it dirty: when the run succeeds the key runs exactly once more, however
//     many enqueues came in meanwhile. A dirty mark on a run that fails is
//     absorbed by the retry (or by parking, on the last attempt).
//   - Per-key order. A key is never processed by two workers at once.
//   - Fairness. Keys are taken in FIFO order of enqueue; a key that comes
//     back (a dirty re-run, a retry that is due, an unparked key) joins the
//     tail.
//   - Retry and parking. A failed key is retried after Options.Backoff of
//     its consecutive failure count. After Options.MaxAttempts failures in a
//     row it is parked: logged at warn, listed by Queue.Parked, and left
//     alone until a new Queue.Enqueue (a fresh change deserves a try) puts
//     it back with its attempts reset. A success resets the attempt count.
//   - Bounds. At most Options.MaxPending distinct keys wait (pending or
//     waiting for a retry); Enqueue of a new key beyond that returns ErrFull
//     and the caller relies on the periodic reconcile to repair. Parked keys
//     do not count (they are bounded by the number of distinct keys), but
//     the Enqueue that unparks one does.
//
// Delivery is at least once within the process and nothing is persisted:
// a crash, or Close, loses the keys that were pending or waiting for a
// retry. That is safe because the scheduled full reconcile reads every
// group in scope and repairs whatever a lost key would have synced.
package queue
