//! The call recording: caller on the left, assistant on the right, at the call's rate, each
//! side placed at its media time. Kept in memory as 16-bit samples up to a cap, then written as
//! one stereo WAV when the call ends.

use std::path::Path;
use std::time::Duration;

use crate::audio::g711::f32_to_i16;
use crate::audio::wav::WavError;

pub struct Recorder {
    rate: u32,
    caller: Vec<i16>,
    assistant: Vec<i16>,
    max_samples: usize,
}

impl Recorder {
    /// A recorder at `rate` that keeps at most `max` of audio per side.
    pub fn new(rate: u32, max: Duration) -> Recorder {
        Recorder {
            rate,
            caller: Vec::new(),
            assistant: Vec::new(),
            max_samples: (max.as_secs_f64() * f64::from(rate)) as usize,
        }
    }

    fn place(track: &mut Vec<i16>, start: usize, samples: &[f32], max: usize) {
        if start >= max {
            return;
        }
        let end = (start + samples.len()).min(max);
        if track.len() < end {
            track.resize(end, 0);
        }
        for (slot, &s) in track[start..end].iter_mut().zip(samples) {
            *slot = f32_to_i16(s);
        }
    }

    fn index(&self, at: Duration) -> usize {
        (at.as_secs_f64() * f64::from(self.rate)).round() as usize
    }

    /// The caller's audio starting at media time `at`.
    pub fn caller(&mut self, at: Duration, samples: &[f32]) {
        let start = self.index(at);
        Self::place(&mut self.caller, start, samples, self.max_samples);
    }

    /// The assistant's audio starting at media time `at`.
    pub fn assistant(&mut self, at: Duration, samples: &[f32]) {
        let start = self.index(at);
        Self::place(&mut self.assistant, start, samples, self.max_samples);
    }

    pub fn duration(&self) -> Duration {
        let len = self.caller.len().max(self.assistant.len());
        Duration::from_secs_f64(len as f64 / f64::from(self.rate))
    }

    /// The assistant's side between two media times, as f32 (for transcribing a reply).
    pub fn assistant_between(&self, from: Duration, to: Duration) -> Vec<f32> {
        let (a, b) = (self.index(from), self.index(to).min(self.assistant.len()));
        if a >= b {
            return Vec::new();
        }
        self.assistant[a..b]
            .iter()
            .map(|&s| f32::from(s) / 32768.0)
            .collect()
    }

    /// Both sides mixed, `len` samples from media time `from` (silence where nothing was
    /// recorded): what a supervisor listening in hears.
    pub fn mixed(&self, from: Duration, len: usize) -> Vec<i16> {
        let start = self.index(from);
        (start..start + len)
            .map(|i| {
                let a = i32::from(self.caller.get(i).copied().unwrap_or(0));
                let b = i32::from(self.assistant.get(i).copied().unwrap_or(0));
                (a + b).clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16
            })
            .collect()
    }

    /// Writes the stereo WAV (16-bit, left caller, right assistant).
    pub fn write_wav(&self, path: &Path) -> Result<(), WavError> {
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: self.rate,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let io = |source: hound::Error| WavError::Write {
            path: path.to_owned(),
            source,
        };
        let mut writer = hound::WavWriter::create(path, spec).map_err(io)?;
        let len = self.caller.len().max(self.assistant.len());
        for i in 0..len {
            writer
                .write_sample(self.caller.get(i).copied().unwrap_or(0))
                .map_err(io)?;
            writer
                .write_sample(self.assistant.get(i).copied().unwrap_or(0))
                .map_err(io)?;
        }
        writer.finalize().map_err(io)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sides_land_at_their_media_time_in_their_channel() {
        let mut r = Recorder::new(8000, Duration::from_secs(10));
        r.caller(Duration::from_millis(0), &[0.5; 160]);
        r.assistant(Duration::from_millis(20), &[-0.5; 160]);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("call.wav");
        r.write_wav(&path).unwrap();
        let mut reader = hound::WavReader::open(&path).unwrap();
        assert_eq!(reader.spec().channels, 2);
        let s: Vec<i16> = reader.samples::<i16>().map(Result::unwrap).collect();
        assert_eq!(s.len(), 2 * 320);
        assert_eq!((s[0], s[1]), (16384, 0));
        assert_eq!((s[2 * 200], s[2 * 200 + 1]), (0, -16384));
        assert_eq!(
            r.assistant_between(Duration::from_millis(20), Duration::from_millis(40))
                .len(),
            160
        );
    }

    #[test]
    fn the_cap_bounds_memory() {
        let mut r = Recorder::new(8000, Duration::from_secs(1));
        r.caller(Duration::from_secs(5), &[0.1; 160]);
        r.caller(Duration::from_millis(990), &[0.1; 160]);
        assert_eq!(r.duration(), Duration::from_secs(1));
    }
}
