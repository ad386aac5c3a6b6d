//! Audio: frames with media time, G.711, fixed-size chunking, resampling (whole clips and
//! real-time streams) and WAV files. Cheap DSP: it runs inline in the media task.

pub mod chunker;
pub mod frame;
pub mod g711;
pub mod resample;
pub mod stream_resampler;
pub mod wav;

pub use frame::AudioFrame;

/// A mono clip of f32 samples in [-1, 1] at a known rate.
#[derive(Debug, Clone, PartialEq)]
pub struct Clip {
    pub samples: Vec<f32>,
    pub sample_rate: u32,
}

impl Clip {
    pub fn seconds(&self) -> f64 {
        if self.sample_rate == 0 {
            return 0.0;
        }
        self.samples.len() as f64 / f64::from(self.sample_rate)
    }
}
