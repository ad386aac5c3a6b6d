//! Stretches of speech in a recording: where the VAD heard speech, with short pauses bridged,
//! so that a long recording can be transcribed piece by piece (Whisper, handed a whole window
//! with long silences in it, tends to stop early and drop the speech after them).

use std::ops::Range;

/// How chunk probabilities are grouped into stretches.
#[derive(Debug, Clone, Copy)]
pub struct StretchRule {
    /// A chunk above this probability is speech.
    pub threshold: f32,
    /// Pauses up to this many chunks stay inside one stretch.
    pub max_pause_chunks: usize,
    /// Chunks of context added before and after each stretch.
    pub pad_chunks: usize,
    /// A stretch is split when it grows past this many chunks.
    pub max_chunks: usize,
}

/// The sample ranges of speech in a recording of `total` samples whose chunks of `chunk_len`
/// samples had the speech probabilities `probs`, in order, never overlapping.
pub fn speech_stretches(
    probs: &[f32],
    chunk_len: usize,
    total: usize,
    rule: StretchRule,
) -> Vec<Range<usize>> {
    let max_chunks = rule.max_chunks.max(1);
    // Chunk ranges of speech, pauses up to the limit bridged, long ones split.
    let mut chunks: Vec<Range<usize>> = Vec::new();
    for (i, &p) in probs.iter().enumerate() {
        if p <= rule.threshold {
            continue;
        }
        match chunks.last_mut() {
            Some(last)
                if i - last.end <= rule.max_pause_chunks && i + 1 - last.start <= max_chunks =>
            {
                last.end = i + 1;
            }
            _ => chunks.push(i..i + 1),
        }
    }
    // Padded, clipped to the recording and to the previous stretch, in samples.
    let mut out: Vec<Range<usize>> = Vec::with_capacity(chunks.len());
    for c in chunks {
        let start = c.start.saturating_sub(rule.pad_chunks) * chunk_len;
        let end = ((c.end + rule.pad_chunks) * chunk_len).min(total);
        let start = start.max(out.last().map_or(0, |r| r.end));
        if start < end {
            out.push(start..end);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULE: StretchRule = StretchRule {
        threshold: 0.5,
        max_pause_chunks: 2,
        pad_chunks: 1,
        max_chunks: 6,
    };

    #[test]
    fn silence_gives_no_stretch() {
        assert!(speech_stretches(&[0.1; 20], 10, 200, RULE).is_empty());
    }

    #[test]
    fn short_pauses_are_bridged_and_long_ones_split() {
        //            0    1    2    3    4    5    6    7    8    9   10   11
        let probs = [0.0, 0.9, 0.9, 0.0, 0.0, 0.9, 0.0, 0.0, 0.0, 0.0, 0.9, 0.0];
        let got = speech_stretches(&probs, 10, 120, RULE);
        // 1..6 bridged (a pause of two chunks), padded to 0..7; 10..11 padded to 9..12.
        assert_eq!(got, vec![0..70, 90..120]);
    }

    #[test]
    fn long_speech_is_cut_into_windows_and_padding_never_overlaps() {
        let probs = [0.9; 14];
        let got = speech_stretches(&probs, 1, 14, RULE);
        assert_eq!(got, vec![0..7, 7..13, 13..14]);
        for w in got.windows(2) {
            assert!(w[0].end <= w[1].start);
        }
    }

    #[test]
    fn padding_is_clipped_to_the_recording() {
        let got = speech_stretches(&[0.9, 0.0, 0.9], 100, 250, RULE);
        assert_eq!(got, vec![0..250]);
    }
}
