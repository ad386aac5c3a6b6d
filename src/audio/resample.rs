//! Resampling whole clips with rubato's synchronous FFT resampler.

use rubato::audioadapter_buffers::owned::InterleavedOwned;
use rubato::{Fft, FixedSync, Resampler};

use super::Clip;

#[derive(Debug, thiserror::Error)]
pub enum ResampleError {
    #[error("cannot resample {from} Hz to {to} Hz: {detail}")]
    Rates { from: u32, to: u32, detail: String },
}

/// Resamples a clip to `rate` (a copy when the rate already matches).
pub fn to_rate(clip: &Clip, rate: u32) -> Result<Clip, ResampleError> {
    if clip.sample_rate == rate || clip.samples.is_empty() {
        return Ok(Clip {
            samples: clip.samples.clone(),
            sample_rate: rate,
        });
    }
    let err = |detail: String| ResampleError::Rates {
        from: clip.sample_rate,
        to: rate,
        detail,
    };
    let mut resampler = Fft::<f32>::new(
        clip.sample_rate as usize,
        rate as usize,
        1024,
        1,
        FixedSync::Input,
    )
    .map_err(|e| err(e.to_string()))?;
    let frames = clip.samples.len();
    let input = InterleavedOwned::new_from(clip.samples.clone(), 1, frames)
        .map_err(|e| err(e.to_string()))?;
    let output = resampler
        .process_all(&input, frames, None)
        .map_err(|e| err(e.to_string()))?;
    Ok(Clip {
        samples: output.take_data(),
        sample_rate: rate,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(rate: u32, hz: f32, seconds: f32) -> Clip {
        let n = (rate as f32 * seconds) as usize;
        Clip {
            samples: (0..n)
                .map(|i| (2.0 * std::f32::consts::PI * hz * i as f32 / rate as f32).sin() * 0.5)
                .collect(),
            sample_rate: rate,
        }
    }

    #[test]
    fn keeps_duration_and_tone() {
        for (from, to) in [(22050, 16000), (8000, 16000), (48000, 8000), (16000, 24000)] {
            let clip = tone(from, 440.0, 1.0);
            let out = to_rate(&clip, to).unwrap();
            assert_eq!(out.sample_rate, to);
            let expected = to as usize;
            assert!(
                out.samples.len().abs_diff(expected) <= 2,
                "{from}->{to}: {}",
                out.samples.len()
            );
            // Same tone: the same loudness and 880 zero crossings per second (440 Hz),
            // measured away from the edges.
            let middle = &out.samples[expected / 10..expected * 9 / 10];
            let rms = (middle.iter().map(|s| s * s).sum::<f32>() / middle.len() as f32).sqrt();
            assert!(
                (rms - 0.5 / 2f32.sqrt()).abs() < 0.01,
                "{from}->{to}: rms {rms}"
            );
            let crossings = middle
                .windows(2)
                .filter(|w| (w[0] < 0.0) != (w[1] < 0.0))
                .count();
            let per_second = crossings as f32 / 0.8;
            assert!(
                (per_second - 880.0).abs() < 4.0,
                "{from}->{to}: {per_second} crossings/s"
            );
        }
    }
}
