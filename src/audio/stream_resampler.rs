//! Real-time resampling of a mono stream between the rates a call meets (8, 16, 22.05, 24 and
//! 48 kHz), with rubato's synchronous FFT resampler. Buffers are allocated once, up front:
//! pushing audio in the steady state does not allocate (the caller reuses its output `Vec`).

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Resampler};

use super::resample::ResampleError;

/// Input frames per resampler call: 10 ms at the input rate (rounded down), at least 64.
fn chunk_for(rate: u32) -> usize {
    (rate as usize / 100).max(64)
}

pub struct StreamResampler {
    from: u32,
    to: u32,
    inner: Option<Fft<f32>>,
    staged: Vec<f32>,
    chunk: usize,
    scratch: Vec<f32>,
}

impl StreamResampler {
    pub fn new(from: u32, to: u32) -> Result<StreamResampler, ResampleError> {
        if from == 0 || to == 0 {
            return Err(ResampleError::Rates {
                from,
                to,
                detail: "rates must be positive".into(),
            });
        }
        let chunk = chunk_for(from);
        let inner = if from == to {
            None
        } else {
            Some(
                Fft::<f32>::new(from as usize, to as usize, chunk, 1, FixedSync::Input).map_err(
                    |e| ResampleError::Rates {
                        from,
                        to,
                        detail: e.to_string(),
                    },
                )?,
            )
        };
        let scratch_len = inner.as_ref().map_or(0, |r| r.output_frames_max());
        Ok(StreamResampler {
            from,
            to,
            inner,
            staged: Vec::with_capacity(chunk),
            chunk,
            scratch: vec![0.0; scratch_len],
        })
    }

    pub fn rates(&self) -> (u32, u32) {
        (self.from, self.to)
    }

    /// Delay the resampler adds, in output samples.
    pub fn delay(&self) -> usize {
        self.inner.as_ref().map_or(0, |r| r.output_delay())
    }

    /// Resamples `input`, appending whatever output is ready to `out`.
    pub fn push(&mut self, mut input: &[f32], out: &mut Vec<f32>) -> Result<(), ResampleError> {
        let Some(inner) = self.inner.as_mut() else {
            out.extend_from_slice(input);
            return Ok(());
        };
        while !input.is_empty() {
            let take = (self.chunk - self.staged.len()).min(input.len());
            self.staged.extend_from_slice(&input[..take]);
            input = &input[take..];
            if self.staged.len() < self.chunk {
                break;
            }
            let err = |detail: String| ResampleError::Rates {
                from: self.from,
                to: self.to,
                detail,
            };
            let src = InterleavedSlice::new(&self.staged[..], 1, self.chunk)
                .map_err(|e| err(e.to_string()))?;
            let frames_out = self.scratch.len();
            let mut dst = InterleavedSlice::new_mut(&mut self.scratch[..], 1, frames_out)
                .map_err(|e| err(e.to_string()))?;
            let (_, produced) = inner
                .process_into_buffer(&src, &mut dst, None)
                .map_err(|e| err(e.to_string()))?;
            out.extend_from_slice(&self.scratch[..produced]);
            self.staged.clear();
        }
        Ok(())
    }

    /// Pushes silence through until `out` holds at least `len` samples, so the last real
    /// samples come out (end of an utterance). The resampler works in whole FFT blocks, which
    /// can be longer than one input chunk, so this loops on output, not on input. Gives up
    /// after a second of silence (a `len` that can never be reached).
    pub fn flush_until(&mut self, out: &mut Vec<f32>, len: usize) -> Result<(), ResampleError> {
        if self.inner.is_none() {
            return Ok(());
        }
        let silence = vec![0.0; self.chunk];
        let max_chunks = (self.from as usize / self.chunk.max(1)).max(1) + 2;
        for _ in 0..max_chunks {
            if out.len() >= len {
                break;
            }
            self.push(&silence, out)?;
        }
        Ok(())
    }

    /// Forgets buffered audio (a new stream, or barge-in).
    pub fn reset(&mut self) {
        self.staged.clear();
        if let Some(inner) = self.inner.as_mut() {
            inner.reset();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RATES: [u32; 5] = [8000, 16000, 22050, 24000, 48000];

    fn tone(rate: u32, seconds: f32) -> Vec<f32> {
        (0..(rate as f32 * seconds) as usize)
            .map(|i| (2.0 * std::f32::consts::PI * 440.0 * i as f32 / rate as f32).sin() * 0.5)
            .collect()
    }

    #[test]
    fn every_rate_pair_keeps_length_and_tone() {
        for from in RATES {
            for to in RATES {
                let mut r = StreamResampler::new(from, to).unwrap();
                let input = tone(from, 1.0);
                let mut out = Vec::new();
                for piece in input.chunks(from as usize / 50) {
                    r.push(piece, &mut out).unwrap();
                }
                // Within one chunk of the ideal length (the rest is still in the resampler).
                let ideal = to as usize;
                assert!(
                    out.len() <= ideal + 1
                        && out.len() + 2 * to as usize / 100 + 2 * r.delay() >= ideal,
                    "{from}->{to}: {} samples",
                    out.len()
                );
                let skip = r.delay() + to as usize / 50;
                let middle = &out[skip..out.len() - to as usize / 50];
                let rms = (middle.iter().map(|s| s * s).sum::<f32>() / middle.len() as f32).sqrt();
                assert!((rms - 0.3536).abs() < 0.01, "{from}->{to}: rms {rms}");
            }
        }
    }

    #[test]
    fn steady_state_does_not_grow_buffers() {
        let mut r = StreamResampler::new(8000, 16000).unwrap();
        let mut out = Vec::with_capacity(4096);
        let frame = vec![0.1f32; 160];
        for _ in 0..10 {
            out.clear();
            r.push(&frame, &mut out).unwrap();
        }
        let capacity = (out.capacity(), r.staged.capacity(), r.scratch.capacity());
        for _ in 0..1000 {
            out.clear();
            r.push(&frame, &mut out).unwrap();
        }
        assert_eq!(
            capacity,
            (out.capacity(), r.staged.capacity(), r.scratch.capacity())
        );
    }

    #[test]
    fn flush_lets_the_whole_tail_out() {
        for (from, to) in [
            (22050, 8000),
            (22050, 16000),
            (22050, 24000),
            (22050, 48000),
            (8000, 16000),
        ] {
            for seconds in [0.5, 1.0, 0.013] {
                let mut r = StreamResampler::new(from, to).unwrap();
                let mut out = Vec::new();
                let input = tone(from, seconds);
                r.push(&input, &mut out).unwrap();
                let wanted = r.delay() + input.len() * to as usize / from as usize;
                r.flush_until(&mut out, wanted).unwrap();
                assert!(
                    out.len() >= wanted,
                    "{from}->{to} {seconds}s: {} < {wanted}",
                    out.len()
                );
            }
        }
    }
}
