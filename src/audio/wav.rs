//! Reading and writing WAV files as mono [`Clip`]s.

use std::path::{Path, PathBuf};

use super::Clip;

#[derive(Debug, thiserror::Error)]
pub enum WavError {
    #[error("{path}: not a readable WAV file: {source}")]
    Read { path: PathBuf, source: hound::Error },
    #[error("{path}: cannot write WAV: {source}")]
    Write { path: PathBuf, source: hound::Error },
    #[error("{path}: unsupported WAV format ({detail})")]
    Unsupported { path: PathBuf, detail: String },
}

/// Reads a PCM or float WAV file; several channels are averaged to mono.
pub fn read(path: &Path) -> Result<Clip, WavError> {
    let read_err = |source| WavError::Read {
        path: path.to_owned(),
        source,
    };
    let reader = hound::WavReader::open(path).map_err(read_err)?;
    let spec = reader.spec();
    if spec.channels == 0 || spec.sample_rate == 0 {
        return Err(WavError::Unsupported {
            path: path.to_owned(),
            detail: format!("{} channels at {} Hz", spec.channels, spec.sample_rate),
        });
    }
    let interleaved: Vec<f32> = match (spec.sample_format, spec.bits_per_sample) {
        (hound::SampleFormat::Float, 32) => reader
            .into_samples::<f32>()
            .collect::<Result<_, _>>()
            .map_err(read_err)?,
        (hound::SampleFormat::Int, bits @ 8..=32) => {
            let scale = 1.0 / (1u64 << (bits - 1)) as f32;
            reader
                .into_samples::<i32>()
                .map(|s| s.map(|v| v as f32 * scale))
                .collect::<Result<_, _>>()
                .map_err(read_err)?
        }
        (format, bits) => {
            return Err(WavError::Unsupported {
                path: path.to_owned(),
                detail: format!("{format:?} with {bits} bits"),
            });
        }
    };
    let channels = usize::from(spec.channels);
    let samples = if channels == 1 {
        interleaved
    } else {
        interleaved
            .chunks_exact(channels)
            .map(|frame| frame.iter().sum::<f32>() / channels as f32)
            .collect()
    };
    Ok(Clip {
        samples,
        sample_rate: spec.sample_rate,
    })
}

/// Writes a clip as 16-bit PCM mono.
pub fn write(path: &Path, clip: &Clip) -> Result<(), WavError> {
    let write_err = |source| WavError::Write {
        path: path.to_owned(),
        source,
    };
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: clip.sample_rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(path, spec).map_err(write_err)?;
    for &s in &clip.samples {
        let v = (s.clamp(-1.0, 1.0) * f32::from(i16::MAX)).round() as i16;
        writer.write_sample(v).map_err(write_err)?;
    }
    writer.finalize().map_err(write_err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_keeps_samples_within_one_lsb() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.wav");
        let clip = Clip {
            samples: (0..800).map(|i| (i as f32 * 0.05).sin() * 0.5).collect(),
            sample_rate: 8000,
        };
        write(&path, &clip).unwrap();
        let back = read(&path).unwrap();
        assert_eq!(back.sample_rate, 8000);
        assert_eq!(back.samples.len(), 800);
        for (a, b) in clip.samples.iter().zip(&back.samples) {
            assert!((a - b).abs() < 1.0 / 16000.0, "{a} vs {b}");
        }
    }

    #[test]
    fn non_wav_and_truncated_files_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.wav");
        std::fs::write(&path, b"this is not audio").unwrap();
        assert!(matches!(read(&path), Err(WavError::Read { .. })));
        assert!(read(&dir.path().join("missing.wav")).is_err());

        let good = dir.path().join("good.wav");
        let clip = Clip {
            samples: vec![0.1; 1000],
            sample_rate: 16000,
        };
        write(&good, &clip).unwrap();
        let bytes = std::fs::read(&good).unwrap();
        std::fs::write(&path, &bytes[..30]).unwrap();
        assert!(read(&path).is_err());
    }
}
