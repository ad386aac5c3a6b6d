//! Cutting a stream of samples into fixed-size frames (10 or 20 ms), with media time.

use std::time::Duration;

use super::frame::samples_to_duration;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ChunkerError {
    #[error("a frame of {ms} ms at {rate} Hz is not a whole number of samples")]
    Size { rate: u32, ms: u32 },
}

/// Buffers incoming samples and hands out whole frames; the remainder waits for the next push.
/// After the first frame it does not allocate.
#[derive(Debug, Clone)]
pub struct FrameChunker {
    frame_len: usize,
    rate: u32,
    pending: Vec<f32>,
    emitted: u64,
}

impl FrameChunker {
    /// Frames of `ms` milliseconds at `rate` Hz (e.g. 20 ms at 8 kHz = 160 samples).
    pub fn new(rate: u32, ms: u32) -> Result<FrameChunker, ChunkerError> {
        let total = u64::from(rate) * u64::from(ms);
        if ms == 0 || rate == 0 || total % 1000 != 0 {
            return Err(ChunkerError::Size { rate, ms });
        }
        let frame_len = (total / 1000) as usize;
        Ok(FrameChunker {
            frame_len,
            rate,
            pending: Vec::with_capacity(frame_len),
            emitted: 0,
        })
    }

    pub fn frame_len(&self) -> usize {
        self.frame_len
    }

    /// Media time of the next frame to come out.
    pub fn next_media_time(&self) -> Duration {
        samples_to_duration(self.emitted, self.rate)
    }

    /// Adds samples; calls `on_frame(frame, media_time)` for every whole frame now available.
    pub fn push(&mut self, mut samples: &[f32], mut on_frame: impl FnMut(&[f32], Duration)) {
        if !self.pending.is_empty() {
            let need = self.frame_len - self.pending.len();
            let take = need.min(samples.len());
            self.pending.extend_from_slice(&samples[..take]);
            samples = &samples[take..];
            if self.pending.len() < self.frame_len {
                return;
            }
            on_frame(&self.pending, self.next_media_time());
            self.emitted += self.frame_len as u64;
            self.pending.clear();
        }
        let mut whole = samples.chunks_exact(self.frame_len);
        for frame in &mut whole {
            on_frame(frame, self.next_media_time());
            self.emitted += self.frame_len as u64;
        }
        self.pending.extend_from_slice(whole.remainder());
    }

    /// Samples waiting for a full frame.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Forgets the partial frame and restarts media time at zero.
    pub fn reset(&mut self) {
        self.pending.clear();
        self.emitted = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_sizes() {
        assert_eq!(FrameChunker::new(8000, 20).unwrap().frame_len(), 160);
        assert_eq!(FrameChunker::new(16000, 10).unwrap().frame_len(), 160);
        assert_eq!(FrameChunker::new(48000, 20).unwrap().frame_len(), 960);
        assert_eq!(FrameChunker::new(22050, 20).unwrap().frame_len(), 441);
        assert!(FrameChunker::new(22050, 10).is_err());
        assert!(FrameChunker::new(8000, 0).is_err());
    }

    #[test]
    fn odd_pushes_give_the_same_frames_as_one_push() {
        let input: Vec<f32> = (0..1000).map(|i| i as f32).collect();
        let mut once = Vec::new();
        let mut c = FrameChunker::new(8000, 20).unwrap();
        c.push(&input, |f, t| once.push((f.to_vec(), t)));
        let mut pieces = Vec::new();
        let mut c2 = FrameChunker::new(8000, 20).unwrap();
        for piece in input.chunks(37) {
            c2.push(piece, |f, t| pieces.push((f.to_vec(), t)));
        }
        assert_eq!(once, pieces);
        assert_eq!(once.len(), 6);
        assert_eq!(once[5].1, Duration::from_millis(100));
        assert_eq!(once[1].0[0], 160.0);
        assert_eq!(c2.pending(), 40);
    }
}
