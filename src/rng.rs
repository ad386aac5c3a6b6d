//! [`SplitMix64`]: a tiny seeded random-number generator. Reproducible from its seed, which is
//! what its users need: LLM sampling that can be replayed, a demo shop that is the same for the
//! same seed. Not for anything secret; [`os_random_u64`] is.

/// 64 bits from the operating system's randomness (`/dev/urandom`), for what must not be
/// guessed: browser call ids (the key to a call's captions), nonce keys, RTP seeds.
pub fn os_random_u64() -> std::io::Result<u64> {
    use std::io::Read;
    let mut bytes = [0u8; 8];
    std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut bytes))?;
    Ok(u64::from_le_bytes(bytes))
}

/// [`os_random_u64`], or the clock where the device cannot be read (logged): for what works
/// less well, not dangerously, when guessed (RTP port starts, SSRCs).
pub fn os_random_or_clock_u64() -> u64 {
    os_random_u64().unwrap_or_else(|e| {
        tracing::warn!("cannot read /dev/urandom ({e}); using the clock");
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos() as u64
    })
}

#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn next_f32(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }

    /// A number in `lo..hi`; `lo` when the range is empty.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            return lo;
        }
        lo + self.next_u64() % (hi - lo)
    }

    /// One element of `items`, which must not be empty (callers pick from constant tables).
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        let index = self.range(0, items.len() as u64) as usize;
        &items[index.min(items.len().saturating_sub(1))]
    }
}
