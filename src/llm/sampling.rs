//! Choosing the next token from logits: greedy, or temperature + nucleus (top-p) sampling with
//! a seeded generator so a conversation can be replayed exactly.

/// How the next token is picked.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Sampling {
    /// The most likely token (deterministic).
    Greedy,
    /// Softmax at `temperature`, restricted to the smallest set of tokens whose probability
    /// adds up to `top_p`, drawn with a generator seeded by `seed`.
    TopP {
        temperature: f32,
        top_p: f32,
        seed: u64,
    },
}

/// The seeded generator sampling draws from.
pub use crate::rng::SplitMix64 as Rng;

/// Index of the largest value (the first one on ties; NaN never wins).
pub fn argmax(row: &[f32]) -> usize {
    let mut best = 0;
    for (i, &v) in row.iter().enumerate() {
        if !v.is_nan() && (row[best].is_nan() || v > row[best]) {
            best = i;
        }
    }
    best
}

/// Picks a token from `logits` (one row). `scratch` is reused between calls.
pub fn sample(
    logits: &[f32],
    sampling: Sampling,
    rng: &mut Rng,
    scratch: &mut Vec<(f32, u32)>,
) -> u32 {
    match sampling {
        Sampling::Greedy => argmax(logits) as u32,
        Sampling::TopP {
            temperature, top_p, ..
        } => {
            if temperature.is_nan() || temperature <= 0.0 || logits.is_empty() {
                return argmax(logits) as u32;
            }
            let max = logits
                .iter()
                .copied()
                .filter(|v| v.is_finite())
                .fold(f32::NEG_INFINITY, f32::max);
            scratch.clear();
            let mut total = 0.0f32;
            for (i, &l) in logits.iter().enumerate() {
                if l.is_finite() {
                    let p = ((l - max) / temperature).exp();
                    total += p;
                    scratch.push((p, i as u32));
                }
            }
            if scratch.is_empty() || total.is_nan() || total <= 0.0 {
                return argmax(logits) as u32;
            }
            scratch.sort_unstable_by(|a, b| b.0.total_cmp(&a.0));
            let keep_mass = top_p.clamp(0.0, 1.0) * total;
            let mut cumulative = 0.0;
            let mut keep = scratch.len();
            for (k, (p, _)) in scratch.iter().enumerate() {
                cumulative += p;
                if cumulative >= keep_mass {
                    keep = k + 1;
                    break;
                }
            }
            let nucleus = &scratch[..keep.max(1)];
            let mass: f32 = nucleus.iter().map(|(p, _)| p).sum();
            let mut target = rng.next_f32() * mass;
            for &(p, id) in nucleus {
                target -= p;
                if target <= 0.0 {
                    return id;
                }
            }
            nucleus[nucleus.len() - 1].1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greedy_and_degenerate_cases() {
        let mut rng = Rng::new(1);
        let mut scratch = Vec::new();
        assert_eq!(
            sample(&[0.1, 3.0, 2.0], Sampling::Greedy, &mut rng, &mut scratch),
            1
        );
        let zero_t = Sampling::TopP {
            temperature: 0.0,
            top_p: 0.9,
            seed: 1,
        };
        assert_eq!(sample(&[0.1, 3.0, 2.0], zero_t, &mut rng, &mut scratch), 1);
        assert_eq!(argmax(&[f32::NAN, 1.0, 0.5]), 1);
        let nan = Sampling::TopP {
            temperature: 1.0,
            top_p: 0.9,
            seed: 1,
        };
        assert_eq!(
            sample(&[f32::NAN, f32::NAN], nan, &mut rng, &mut scratch),
            0
        );
    }

    #[test]
    fn top_p_keeps_to_the_nucleus_and_follows_the_distribution() {
        // Probabilities about 0.64, 0.24, 0.09, 0.03: top-p 0.8 keeps the first two only.
        let logits = [3.0, 2.0, 1.0, 0.0];
        let sampling = Sampling::TopP {
            temperature: 1.0,
            top_p: 0.8,
            seed: 7,
        };
        let mut rng = Rng::new(7);
        let mut scratch = Vec::new();
        let mut counts = [0usize; 4];
        for _ in 0..10_000 {
            counts[sample(&logits, sampling, &mut rng, &mut scratch) as usize] += 1;
        }
        assert_eq!(counts[2] + counts[3], 0, "{counts:?}");
        let share = counts[0] as f64 / 10_000.0;
        assert!((share - 0.64 / 0.88).abs() < 0.03, "{counts:?}");
    }

    #[test]
    fn the_same_seed_gives_the_same_draws() {
        // Splitmix64's first output for seed 42, computed independently (Python).
        assert_eq!(Rng::new(42).next_u64(), 13_679_457_532_755_275_413);
        let mut a = Rng::new(42);
        let mut b = Rng::new(42);
        assert!((0..100).all(|_| a.next_u64() == b.next_u64()));
        assert!(
            (0..1000)
                .map(|_| a.next_f32())
                .all(|x| (0.0..1.0).contains(&x))
        );
    }
}
