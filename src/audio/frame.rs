//! [`AudioFrame`]: a short piece of a stream with its place in media time.

use std::time::Duration;

/// Samples of one stream, interleaved when `channels > 1`, in [-1, 1].
#[derive(Debug, Clone, PartialEq)]
pub struct AudioFrame {
    pub samples: Vec<f32>,
    pub sample_rate: u32,
    pub channels: u16,
    /// Media time of the first sample, counted from the start of the stream.
    pub media_time: Duration,
}

impl AudioFrame {
    /// A mono frame.
    pub fn mono(samples: Vec<f32>, sample_rate: u32, media_time: Duration) -> AudioFrame {
        AudioFrame {
            samples,
            sample_rate,
            channels: 1,
            media_time,
        }
    }

    /// Samples per channel.
    pub fn frames(&self) -> usize {
        self.samples.len() / usize::from(self.channels.max(1))
    }

    pub fn duration(&self) -> Duration {
        samples_to_duration(self.frames() as u64, self.sample_rate)
    }

    /// Media time just after the last sample.
    pub fn end_time(&self) -> Duration {
        self.media_time + self.duration()
    }
}

/// The duration of `samples` samples at `rate` (zero for a zero rate).
pub fn samples_to_duration(samples: u64, rate: u32) -> Duration {
    if rate == 0 {
        return Duration::ZERO;
    }
    Duration::from_nanos(samples.saturating_mul(1_000_000_000) / u64::from(rate))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        let f = AudioFrame::mono(vec![0.0; 160], 8000, Duration::from_millis(40));
        assert_eq!(f.duration(), Duration::from_millis(20));
        assert_eq!(f.end_time(), Duration::from_millis(60));
        let stereo = AudioFrame {
            samples: vec![0.0; 960 * 2],
            sample_rate: 48_000,
            channels: 2,
            media_time: Duration::ZERO,
        };
        assert_eq!(stereo.frames(), 960);
        assert_eq!(stereo.duration(), Duration::from_millis(20));
        assert_eq!(samples_to_duration(100, 0), Duration::ZERO);
    }
}
