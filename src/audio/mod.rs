//! Audio in memory: WAV files and offline resampling. (Streaming DSP, G.711 and frame
//! chunking arrive with the speech-engines issue.)

pub mod g711;
pub mod resample;
pub mod wav;

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
