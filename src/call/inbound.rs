//! The inbound audio queue between a transport (async, owns the socket) and the listening
//! thread (sync engine). Bounded; when full the oldest frame is dropped and counted, so a
//! stalled listener loses old audio rather than blocking the network side.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// One encoded frame as the transport received it.
#[derive(Debug, Clone)]
pub struct InboundFrame {
    /// Encoded audio in the transport's codec.
    pub payload: Vec<u8>,
    /// Media time of the frame's start (from the call's start, on the sender's clock).
    pub media_time: Duration,
    /// When it arrived here (the latency edge).
    pub received: Instant,
}

struct Ring {
    frames: VecDeque<InboundFrame>,
    dropped: u64,
    closed: bool,
}

struct Shared {
    ring: Mutex<Ring>,
    ready: Condvar,
    capacity: usize,
}

fn lock(shared: &Shared) -> MutexGuard<'_, Ring> {
    // A panic while holding this lock is a bug elsewhere; the queue itself stays consistent.
    shared.ring.lock().unwrap_or_else(|p| p.into_inner())
}

/// The transport's end.
#[derive(Clone)]
pub struct InboundSender(Arc<Shared>);

/// The listener's end.
pub struct InboundReceiver(Arc<Shared>);

/// A queue of `capacity` frames.
pub fn inbound_queue(capacity: usize) -> (InboundSender, InboundReceiver) {
    let shared = Arc::new(Shared {
        ring: Mutex::new(Ring {
            frames: VecDeque::with_capacity(capacity),
            dropped: 0,
            closed: false,
        }),
        ready: Condvar::new(),
        capacity: capacity.max(1),
    });
    (InboundSender(shared.clone()), InboundReceiver(shared))
}

impl InboundSender {
    /// Queues a frame; never blocks. Drops the oldest when full.
    pub fn push(&self, frame: InboundFrame) {
        let mut ring = lock(&self.0);
        if ring.closed {
            return;
        }
        if ring.frames.len() == self.0.capacity {
            ring.frames.pop_front();
            ring.dropped += 1;
        }
        ring.frames.push_back(frame);
        drop(ring);
        self.0.ready.notify_one();
    }

    /// No more frames will come (the call is over).
    pub fn close(&self) {
        lock(&self.0).closed = true;
        self.0.ready.notify_all();
    }
}

/// What the listener got.
#[derive(Debug)]
pub enum Received {
    Frame(InboundFrame),
    /// Nothing arrived within the wait.
    Idle,
    /// The sender closed the queue and it is empty.
    Closed,
}

impl InboundReceiver {
    /// The next frame, waiting at most `wait`.
    pub fn pop(&self, wait: Duration) -> Received {
        let mut ring = lock(&self.0);
        if ring.frames.is_empty() && !ring.closed {
            ring = self
                .0
                .ready
                .wait_timeout(ring, wait)
                .map(|(guard, _)| guard)
                .unwrap_or_else(|p| p.into_inner().0);
        }
        match ring.frames.pop_front() {
            Some(frame) => Received::Frame(frame),
            None if ring.closed => Received::Closed,
            None => Received::Idle,
        }
    }

    /// Frames dropped because the listener fell behind.
    pub fn dropped(&self) -> u64 {
        lock(&self.0).dropped
    }

    /// Stops the queue from the listener's side (the call is over).
    pub fn close(&self) {
        lock(&self.0).closed = true;
        self.0.ready.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(ms: u64) -> InboundFrame {
        InboundFrame {
            payload: vec![0xff; 160],
            media_time: Duration::from_millis(ms),
            received: Instant::now(),
        }
    }

    #[test]
    fn full_queue_drops_the_oldest() {
        let (tx, rx) = inbound_queue(3);
        for i in 0..5 {
            tx.push(frame(i * 20));
        }
        assert_eq!(rx.dropped(), 2);
        let Received::Frame(f) = rx.pop(Duration::ZERO) else {
            panic!()
        };
        assert_eq!(f.media_time, Duration::from_millis(40));
    }

    #[test]
    fn closed_and_drained_says_so() {
        let (tx, rx) = inbound_queue(3);
        tx.push(frame(0));
        tx.close();
        assert!(matches!(rx.pop(Duration::ZERO), Received::Frame(_)));
        assert!(matches!(rx.pop(Duration::from_secs(1)), Received::Closed));
        assert!(matches!(
            inbound_queue(1).1.pop(Duration::from_millis(1)),
            Received::Idle
        ));
    }
}
