//! DTMF as RTP telephone events (RFC 4733, formerly RFC 2833): the 4-byte payload, a receiver
//! that turns the redundant packets of one key press into one key, and a sender that produces
//! the packets for a key.

/// Why a payload is not a telephone event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    #[error("telephone-event payload of {0} bytes, expected at least 4")]
    TooShort(usize),
}

/// One telephone-event payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TelephoneEvent {
    /// 0-9, 10 = `*`, 11 = `#`, 12-15 = A-D; others are tones this product ignores.
    pub event: u8,
    pub end: bool,
    /// Attenuation in dBm0 below 0 (0-63).
    pub volume: u8,
    /// Duration so far, in timestamp units.
    pub duration: u16,
}

impl TelephoneEvent {
    pub fn parse(payload: &[u8]) -> Result<TelephoneEvent, EventError> {
        if payload.len() < 4 {
            return Err(EventError::TooShort(payload.len()));
        }
        Ok(TelephoneEvent {
            event: payload[0],
            end: payload[1] & 0x80 != 0,
            volume: payload[1] & 0x3f,
            duration: u16::from_be_bytes([payload[2], payload[3]]),
        })
    }

    pub fn write(&self) -> [u8; 4] {
        let d = self.duration.to_be_bytes();
        [
            self.event,
            (u8::from(self.end) << 7) | (self.volume & 0x3f),
            d[0],
            d[1],
        ]
    }

    /// The DTMF key this event stands for.
    pub fn key(&self) -> Option<char> {
        key_of(self.event)
    }
}

/// The key for an event code.
pub fn key_of(event: u8) -> Option<char> {
    match event {
        0..=9 => Some(char::from(b'0' + event)),
        10 => Some('*'),
        11 => Some('#'),
        12..=15 => Some(char::from(b'A' + event - 12)),
        _ => None,
    }
}

/// The event code for a key.
pub fn event_of(key: char) -> Option<u8> {
    match key {
        '0'..='9' => Some(key as u8 - b'0'),
        '*' => Some(10),
        '#' => Some(11),
        'A'..='D' => Some(key as u8 - b'A' + 12),
        'a'..='d' => Some(key as u8 - b'a' + 12),
        _ => None,
    }
}

/// Turns the stream of event packets into key presses. A press is identified by its RTP
/// timestamp (every packet of one press carries the press's start); it is reported once, on
/// its first packet, so a lost end packet loses nothing.
#[derive(Debug, Clone, Default)]
pub struct EventReceiver {
    last: Option<(u32, u32)>,
}

impl EventReceiver {
    /// Feeds one packet (its SSRC, timestamp and payload); returns the key when it starts a
    /// new press.
    pub fn receive(&mut self, ssrc: u32, timestamp: u32, payload: &[u8]) -> Option<char> {
        let event = TelephoneEvent::parse(payload).ok()?;
        if self.last == Some((ssrc, timestamp)) {
            return None;
        }
        self.last = Some((ssrc, timestamp));
        event.key()
    }
}

/// One packet of an outgoing key press.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventPacket {
    /// Set on the first packet of the press.
    pub marker: bool,
    pub payload: [u8; 4],
}

/// The packets for one key press, one per frame: `frames` packets with a growing duration,
/// then the end packet three times (RFC 4733 section 2.5.1.4). All carry the press's start
/// timestamp. `None` for a character that is not a key.
pub fn key_press(key: char, frames: u16, frame_samples: u16) -> Option<Vec<EventPacket>> {
    let event = event_of(key)?;
    let frames = frames.max(1);
    let mut packets = Vec::with_capacity(usize::from(frames) + 3);
    for i in 1..=frames {
        packets.push(EventPacket {
            marker: i == 1,
            payload: TelephoneEvent {
                event,
                end: false,
                volume: 10,
                duration: i.saturating_mul(frame_samples),
            }
            .write(),
        });
    }
    let end = TelephoneEvent {
        event,
        end: true,
        volume: 10,
        duration: frames.saturating_mul(frame_samples),
    }
    .write();
    for _ in 0..3 {
        packets.push(EventPacket {
            marker: false,
            payload: end,
        });
    }
    Some(packets)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_codes_map_both_ways() {
        for key in "0123456789*#ABCD".chars() {
            assert_eq!(key_of(event_of(key).unwrap()), Some(key));
        }
        assert_eq!(event_of('x'), None);
        assert_eq!(key_of(16), None);
    }

    #[test]
    fn a_press_sent_is_one_key_received_despite_redundancy_and_loss() {
        let packets = key_press('#', 5, 160).unwrap();
        assert_eq!(packets.len(), 8);
        assert!(packets[0].marker && !packets[1].marker);
        let last = TelephoneEvent::parse(&packets[7].payload).unwrap();
        assert!(last.end);
        assert_eq!(last.duration, 800);
        let mut rx = EventReceiver::default();
        // The first packet is lost: the second still reports the key, once.
        let keys: Vec<char> = packets[1..]
            .iter()
            .filter_map(|p| rx.receive(7, 1000, &p.payload))
            .collect();
        assert_eq!(keys, vec!['#']);
        // The same key again is a new press (a new timestamp).
        assert_eq!(rx.receive(7, 2000, &packets[0].payload), Some('#'));
    }

    #[test]
    fn short_payloads_are_errors() {
        assert_eq!(TelephoneEvent::parse(&[1, 2]), Err(EventError::TooShort(2)));
        assert_eq!(EventReceiver::default().receive(1, 1, &[]), None);
    }
}
