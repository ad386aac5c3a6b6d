//! Basic RTCP (RFC 3550 section 6): sender and receiver reports, BYE, and the compound packet
//! a media session sends every few seconds (a report plus an SDES CNAME). Other packet types
//! are skipped by their length.

/// Why a datagram is not RTCP.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RtcpError {
    #[error("RTCP packet too short ({0} bytes)")]
    TooShort(usize),
    #[error("RTCP version {0}, expected 2")]
    Version(u8),
    #[error("RTCP length field runs past the datagram")]
    Truncated,
}

/// Reception statistics about one source (RFC 3550 section 6.4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReportBlock {
    pub ssrc: u32,
    /// Fraction of packets lost since the last report, in 1/256.
    pub fraction_lost: u8,
    /// Cumulative packets lost (24-bit signed on the wire).
    pub cumulative_lost: i32,
    pub highest_sequence: u32,
    /// Interarrival jitter in timestamp units.
    pub jitter: u32,
    pub last_sr: u32,
    pub delay_since_last_sr: u32,
}

/// One packet of a compound RTCP datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RtcpPacket {
    SenderReport {
        ssrc: u32,
        ntp: u64,
        rtp_timestamp: u32,
        packets: u32,
        octets: u32,
        reports: Vec<ReportBlock>,
    },
    ReceiverReport {
        ssrc: u32,
        reports: Vec<ReportBlock>,
    },
    Bye {
        sources: Vec<u32>,
    },
    /// SDES, APP, feedback: skipped.
    Other {
        packet_type: u8,
    },
}

const SR: u8 = 200;
const RR: u8 = 201;
const SDES: u8 = 202;
const BYE: u8 = 203;

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn blocks(body: &[u8], count: usize) -> Result<Vec<ReportBlock>, RtcpError> {
    if body.len() < count * 24 {
        return Err(RtcpError::Truncated);
    }
    Ok((0..count)
        .map(|i| {
            let b = &body[i * 24..(i + 1) * 24];
            let lost = be32(b, 4) & 0x00ff_ffff;
            // Sign-extend the 24-bit count.
            let cumulative_lost = ((lost << 8) as i32) >> 8;
            ReportBlock {
                ssrc: be32(b, 0),
                fraction_lost: b[4],
                cumulative_lost,
                highest_sequence: be32(b, 8),
                jitter: be32(b, 12),
                last_sr: be32(b, 16),
                delay_since_last_sr: be32(b, 20),
            }
        })
        .collect())
}

/// Parses a compound RTCP datagram.
pub fn parse(datagram: &[u8]) -> Result<Vec<RtcpPacket>, RtcpError> {
    if datagram.len() < 4 {
        return Err(RtcpError::TooShort(datagram.len()));
    }
    let mut packets = Vec::new();
    let mut rest = datagram;
    while !rest.is_empty() {
        if rest.len() < 4 {
            return Err(RtcpError::Truncated);
        }
        let version = rest[0] >> 6;
        if version != 2 {
            return Err(RtcpError::Version(version));
        }
        let count = usize::from(rest[0] & 0x1f);
        let packet_type = rest[1];
        let len = 4 * (usize::from(u16::from_be_bytes([rest[2], rest[3]])) + 1);
        let packet = rest.get(..len).ok_or(RtcpError::Truncated)?;
        let body = &packet[4..];
        packets.push(match packet_type {
            SR => {
                if body.len() < 24 {
                    return Err(RtcpError::Truncated);
                }
                RtcpPacket::SenderReport {
                    ssrc: be32(body, 0),
                    ntp: (u64::from(be32(body, 4)) << 32) | u64::from(be32(body, 8)),
                    rtp_timestamp: be32(body, 12),
                    packets: be32(body, 16),
                    octets: be32(body, 20),
                    reports: blocks(&body[24..], count)?,
                }
            }
            RR => {
                if body.len() < 4 {
                    return Err(RtcpError::Truncated);
                }
                RtcpPacket::ReceiverReport {
                    ssrc: be32(body, 0),
                    reports: blocks(&body[4..], count)?,
                }
            }
            BYE => {
                if body.len() < 4 * count {
                    return Err(RtcpError::Truncated);
                }
                RtcpPacket::Bye {
                    sources: (0..count).map(|i| be32(body, 4 * i)).collect(),
                }
            }
            other => RtcpPacket::Other { packet_type: other },
        });
        rest = &rest[len..];
    }
    Ok(packets)
}

fn push_block(out: &mut Vec<u8>, b: &ReportBlock) {
    out.extend_from_slice(&b.ssrc.to_be_bytes());
    let lost = (b.cumulative_lost.clamp(-0x80_0000, 0x7f_ffff) as u32) & 0x00ff_ffff;
    out.extend_from_slice(&(u32::from(b.fraction_lost) << 24 | lost).to_be_bytes());
    out.extend_from_slice(&b.highest_sequence.to_be_bytes());
    out.extend_from_slice(&b.jitter.to_be_bytes());
    out.extend_from_slice(&b.last_sr.to_be_bytes());
    out.extend_from_slice(&b.delay_since_last_sr.to_be_bytes());
}

fn finish(out: &mut Vec<u8>, start: usize) {
    while !(out.len() - start).is_multiple_of(4) {
        out.push(0);
    }
    let words = ((out.len() - start) / 4 - 1) as u16;
    out[start + 2..start + 4].copy_from_slice(&words.to_be_bytes());
}

/// What a sender says about itself in a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SenderInfo {
    pub ntp: u64,
    pub rtp_timestamp: u32,
    pub packets: u32,
    pub octets: u32,
}

/// Writes a compound report (`out` is cleared first): a sender report when `sender` is given,
/// else a receiver report, with at most one report block, then an SDES CNAME.
pub fn write_report(
    ssrc: u32,
    sender: Option<SenderInfo>,
    block: Option<&ReportBlock>,
    cname: &str,
    out: &mut Vec<u8>,
) {
    out.clear();
    let count = u8::from(block.is_some());
    out.extend_from_slice(&[0x80 | count, if sender.is_some() { SR } else { RR }, 0, 0]);
    out.extend_from_slice(&ssrc.to_be_bytes());
    if let Some(s) = sender {
        out.extend_from_slice(&s.ntp.to_be_bytes());
        out.extend_from_slice(&s.rtp_timestamp.to_be_bytes());
        out.extend_from_slice(&s.packets.to_be_bytes());
        out.extend_from_slice(&s.octets.to_be_bytes());
    }
    if let Some(b) = block {
        push_block(out, b);
    }
    finish(out, 0);
    let start = out.len();
    out.extend_from_slice(&[0x81, SDES, 0, 0]);
    out.extend_from_slice(&ssrc.to_be_bytes());
    let name = &cname.as_bytes()[..cname.len().min(255)];
    out.push(1); // CNAME
    out.push(name.len() as u8);
    out.extend_from_slice(name);
    out.push(0); // end of the item list
    finish(out, start);
}

/// Writes a BYE for `ssrc` (`out` is cleared first).
pub fn write_bye(ssrc: u32, out: &mut Vec<u8>) {
    out.clear();
    out.extend_from_slice(&[0x81, BYE, 0, 1]);
    out.extend_from_slice(&ssrc.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_compound_report_parses_back() {
        let block = ReportBlock {
            ssrc: 9,
            fraction_lost: 25,
            cumulative_lost: -3,
            highest_sequence: 70_000,
            jitter: 40,
            last_sr: 1,
            delay_since_last_sr: 2,
        };
        let sender = SenderInfo {
            ntp: 0x0102_0304_0506_0708,
            rtp_timestamp: 160,
            packets: 5,
            octets: 800,
        };
        let mut out = Vec::new();
        write_report(7, Some(sender), Some(&block), "hotline@test", &mut out);
        assert_eq!(out.len() % 4, 0);
        let packets = parse(&out).unwrap();
        assert_eq!(
            packets[0],
            RtcpPacket::SenderReport {
                ssrc: 7,
                ntp: sender.ntp,
                rtp_timestamp: 160,
                packets: 5,
                octets: 800,
                reports: vec![block],
            }
        );
        assert_eq!(packets[1], RtcpPacket::Other { packet_type: SDES });
        write_report(7, None, None, "x", &mut out);
        assert_eq!(
            parse(&out).unwrap()[0],
            RtcpPacket::ReceiverReport {
                ssrc: 7,
                reports: vec![]
            }
        );
        write_bye(7, &mut out);
        assert_eq!(
            parse(&out).unwrap(),
            vec![RtcpPacket::Bye { sources: vec![7] }]
        );
    }

    #[test]
    fn bad_lengths_are_errors() {
        assert_eq!(parse(&[0x80, 200]), Err(RtcpError::TooShort(2)));
        assert_eq!(parse(&[0x40, 200, 0, 0]), Err(RtcpError::Version(1)));
        assert_eq!(
            parse(&[0x80, 200, 0, 9, 0, 0, 0, 0]),
            Err(RtcpError::Truncated)
        );
        // A report claiming a block it does not carry.
        assert_eq!(
            parse(&[0x81, 201, 0, 1, 0, 0, 0, 1]),
            Err(RtcpError::Truncated)
        );
        assert_eq!(
            parse(&[0x85, 203, 0, 1, 0, 0, 0, 1]),
            Err(RtcpError::Truncated)
        );
    }
}
