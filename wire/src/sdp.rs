//! SDP offer/answer (RFC 4566, RFC 3264) for a phone call: parse an offer, pick G.711 (PCMU
//! or PCMA, in the offerer's order) and telephone-event/8000, tell hold from resume, and write
//! the answer with one line per offered media stream (those refused get port 0).

use std::fmt::Write as _;
use std::net::IpAddr;

/// Why an offer cannot be answered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SdpError {
    #[error("SDP line {line}: {why}")]
    Syntax { line: usize, why: String },
    #[error("SDP has no connection address for its audio")]
    NoConnection,
    #[error("SDP offers no audio stream")]
    NoAudio,
    #[error("SDP offers no codec we speak (PCMU or PCMA at 8 kHz)")]
    NoCommonCodec,
    #[error("SDP of {0} bytes is over the limit")]
    TooLarge(usize),
}

/// Limits a description to what a phone call can need.
pub const MAX_SDP_BYTES: usize = 16 * 1024;
const MAX_MEDIA: usize = 16;
const MAX_FORMATS: usize = 64;

/// Media direction attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Direction {
    #[default]
    SendRecv,
    SendOnly,
    RecvOnly,
    Inactive,
}

impl Direction {
    fn attribute(self) -> &'static str {
        match self {
            Direction::SendRecv => "sendrecv",
            Direction::SendOnly => "sendonly",
            Direction::RecvOnly => "recvonly",
            Direction::Inactive => "inactive",
        }
    }

    /// The direction an answerer takes for this offered direction.
    pub fn answer(self) -> Direction {
        match self {
            Direction::SendRecv => Direction::SendRecv,
            Direction::SendOnly => Direction::RecvOnly,
            Direction::RecvOnly => Direction::SendOnly,
            Direction::Inactive => Direction::Inactive,
        }
    }
}

/// One `a=rtpmap` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtpMap {
    pub payload_type: u8,
    pub encoding: String,
    pub clock_rate: u32,
}

/// One `m=` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Media {
    pub kind: String,
    pub port: u16,
    pub protocol: String,
    /// Format tokens as offered (payload types for RTP).
    pub formats: Vec<String>,
    pub rtpmaps: Vec<RtpMap>,
    pub connection: Option<IpAddr>,
    pub direction: Option<Direction>,
    pub ptime: Option<u32>,
    pub rtcp_mux: bool,
}

/// A parsed session description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionDescription {
    pub connection: Option<IpAddr>,
    pub direction: Option<Direction>,
    pub media: Vec<Media>,
}

fn syntax(line: usize, why: impl Into<String>) -> SdpError {
    SdpError::Syntax {
        line,
        why: why.into(),
    }
}

fn parse_connection(n: usize, value: &str) -> Result<IpAddr, SdpError> {
    let mut parts = value.split_whitespace();
    let (net, kind, addr) = (parts.next(), parts.next(), parts.next());
    if net != Some("IN") || !matches!(kind, Some("IP4" | "IP6")) {
        return Err(syntax(n, "connection is not IN IP4/IP6"));
    }
    // A multicast TTL suffix ("/127") is not for phone calls, but is parsed past.
    let addr = addr.ok_or_else(|| syntax(n, "connection without an address"))?;
    let host = addr.split('/').next().unwrap_or(addr);
    host.parse()
        .map_err(|_| syntax(n, format!("bad connection address {host:?}")))
}

fn parse_direction(name: &str) -> Option<Direction> {
    match name {
        "sendrecv" => Some(Direction::SendRecv),
        "sendonly" => Some(Direction::SendOnly),
        "recvonly" => Some(Direction::RecvOnly),
        "inactive" => Some(Direction::Inactive),
        _ => None,
    }
}

/// Parses a session description. Unknown lines and attributes are ignored, as RFC 4566 asks.
pub fn parse(text: &str) -> Result<SessionDescription, SdpError> {
    if text.len() > MAX_SDP_BYTES {
        return Err(SdpError::TooLarge(text.len()));
    }
    let mut session = SessionDescription {
        connection: None,
        direction: None,
        media: Vec::new(),
    };
    let mut saw_version = false;
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let line = raw.trim_end_matches('\r');
        if line.is_empty() {
            continue;
        }
        let Some((kind, value)) = line.split_once('=') else {
            return Err(syntax(n, "not a type=value line"));
        };
        if kind.len() != 1 {
            return Err(syntax(n, format!("bad line type {kind:?}")));
        }
        match kind {
            "v" => {
                if value != "0" {
                    return Err(syntax(n, format!("version {value:?}")));
                }
                saw_version = true;
            }
            "c" => {
                let addr = parse_connection(n, value)?;
                match session.media.last_mut() {
                    Some(m) => m.connection = Some(addr),
                    None => session.connection = Some(addr),
                }
            }
            "m" => {
                if session.media.len() >= MAX_MEDIA {
                    return Err(syntax(n, "too many media sections"));
                }
                let mut parts = value.split_whitespace();
                let kind = parts.next().ok_or_else(|| syntax(n, "empty media line"))?;
                let port = parts
                    .next()
                    .and_then(|p| p.split('/').next())
                    .and_then(|p| p.parse::<u16>().ok())
                    .ok_or_else(|| syntax(n, "bad media port"))?;
                let protocol = parts
                    .next()
                    .ok_or_else(|| syntax(n, "media line without a protocol"))?;
                let formats: Vec<String> = parts.map(str::to_string).collect();
                if formats.len() > MAX_FORMATS {
                    return Err(syntax(n, "too many formats"));
                }
                session.media.push(Media {
                    kind: kind.to_string(),
                    port,
                    protocol: protocol.to_string(),
                    formats,
                    rtpmaps: Vec::new(),
                    connection: None,
                    direction: None,
                    ptime: None,
                    rtcp_mux: false,
                });
            }
            "a" => {
                let (name, arg) = value.split_once(':').unwrap_or((value, ""));
                if let Some(d) = parse_direction(name) {
                    match session.media.last_mut() {
                        Some(m) => m.direction = Some(d),
                        None => session.direction = Some(d),
                    }
                    continue;
                }
                let Some(m) = session.media.last_mut() else {
                    continue;
                };
                match name {
                    "rtpmap" => {
                        if m.rtpmaps.len() >= MAX_FORMATS {
                            return Err(syntax(n, "too many rtpmap lines"));
                        }
                        let (pt, spec) = arg
                            .split_once(' ')
                            .ok_or_else(|| syntax(n, "rtpmap without an encoding"))?;
                        let payload_type = pt
                            .trim()
                            .parse::<u8>()
                            .ok()
                            .filter(|pt| *pt < 128)
                            .ok_or_else(|| syntax(n, "bad rtpmap payload type"))?;
                        let mut spec = spec.trim().split('/');
                        let encoding = spec.next().unwrap_or_default().to_string();
                        let clock_rate = spec
                            .next()
                            .and_then(|r| r.parse::<u32>().ok())
                            .ok_or_else(|| syntax(n, "bad rtpmap clock rate"))?;
                        m.rtpmaps.push(RtpMap {
                            payload_type,
                            encoding,
                            clock_rate,
                        });
                    }
                    "ptime" => m.ptime = arg.trim().parse().ok(),
                    "rtcp-mux" => m.rtcp_mux = true,
                    _ => {}
                }
            }
            _ => {}
        }
    }
    if !saw_version {
        return Err(syntax(1, "no v=0 line"));
    }
    Ok(session)
}

/// G.711 law chosen for a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum G711 {
    MuLaw,
    ALaw,
}

impl G711 {
    pub fn payload_type(self) -> u8 {
        match self {
            G711::MuLaw => 0,
            G711::ALaw => 8,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            G711::MuLaw => "PCMU",
            G711::ALaw => "PCMA",
        }
    }
}

/// The outcome of negotiating an offer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Negotiated {
    /// Index of the accepted `m=` line.
    pub media_index: usize,
    /// Where the offerer wants to receive audio (port 0: nowhere yet).
    pub remote_addr: IpAddr,
    pub remote_port: u16,
    pub codec: G711,
    /// The payload type the offer gave the codec (0 or 8, or a dynamic one with an rtpmap).
    pub payload_type: u8,
    pub telephone_event: Option<u8>,
    /// The direction we answer with.
    pub direction: Direction,
    /// The offerer put us on hold (sendonly/inactive, or the old `c=0.0.0.0`).
    pub on_hold: bool,
    pub rtcp_mux: bool,
    /// Kinds of the offered media, to mirror in the answer.
    offered: Vec<(String, String, String)>,
}

fn encoding_of(media: &Media, format: &str) -> Option<(String, u32)> {
    let pt: u8 = format.parse().ok()?;
    if let Some(map) = media.rtpmaps.iter().find(|m| m.payload_type == pt) {
        return Some((map.encoding.to_ascii_uppercase(), map.clock_rate));
    }
    // Static payload types need no rtpmap (RFC 3551).
    match pt {
        0 => Some(("PCMU".into(), 8000)),
        8 => Some(("PCMA".into(), 8000)),
        _ => None,
    }
}

/// Picks the audio stream, codec and DTMF payload type we will use: the offerer's first G.711.
pub fn negotiate(offer: &SessionDescription) -> Result<Negotiated, SdpError> {
    negotiate_preferring(offer, None)
}

/// The same, keeping `prefer` when the offer still has it (a re-INVITE mid-call).
pub fn negotiate_preferring(
    offer: &SessionDescription,
    prefer: Option<G711>,
) -> Result<Negotiated, SdpError> {
    let mut saw_audio = false;
    for (index, media) in offer.media.iter().enumerate() {
        if media.kind != "audio" || media.port == 0 || !media.protocol.starts_with("RTP/AVP") {
            continue;
        }
        saw_audio = true;
        let candidates: Vec<(G711, u8)> = media
            .formats
            .iter()
            .filter_map(|f| {
                let pt: u8 = f.parse().ok()?;
                match encoding_of(media, f) {
                    Some((e, 8000)) if e == "PCMU" => Some((G711::MuLaw, pt)),
                    Some((e, 8000)) if e == "PCMA" => Some((G711::ALaw, pt)),
                    _ => None,
                }
            })
            .collect();
        let chosen = candidates
            .iter()
            .find(|(c, _)| Some(*c) == prefer)
            .or(candidates.first());
        let Some(&(codec, payload_type)) = chosen else {
            continue;
        };
        let telephone_event = media.formats.iter().find_map(|f| {
            let (e, rate) = encoding_of(media, f)?;
            (e == "TELEPHONE-EVENT" && rate == 8000)
                .then(|| f.parse().ok())
                .flatten()
        });
        let remote_addr = media
            .connection
            .or(offer.connection)
            .ok_or(SdpError::NoConnection)?;
        let offered_direction = media
            .direction
            .or(offer.direction)
            .unwrap_or(Direction::SendRecv);
        let zero = remote_addr.is_unspecified();
        let direction = if zero {
            Direction::Inactive
        } else {
            offered_direction.answer()
        };
        return Ok(Negotiated {
            media_index: index,
            remote_addr,
            remote_port: media.port,
            codec,
            payload_type,
            telephone_event,
            direction,
            on_hold: zero || matches!(offered_direction, Direction::SendOnly | Direction::Inactive),
            rtcp_mux: media.rtcp_mux,
            offered: offer
                .media
                .iter()
                .map(|m| (m.kind.clone(), m.protocol.clone(), m.formats.join(" ")))
                .collect(),
        });
    }
    if saw_audio {
        Err(SdpError::NoCommonCodec)
    } else {
        Err(SdpError::NoAudio)
    }
}

/// Our side of a session, for writing descriptions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalMedia {
    pub address: IpAddr,
    pub port: u16,
    /// `o=` session id and version (the version grows with each new description).
    pub session_id: u64,
    pub version: u64,
}

fn ip_kind(addr: IpAddr) -> &'static str {
    if addr.is_ipv4() { "IP4" } else { "IP6" }
}

fn header(out: &mut String, local: &LocalMedia) {
    let kind = ip_kind(local.address);
    let _ = write!(
        out,
        "v=0\r\no=hotline {} {} IN {kind} {}\r\ns=hotline\r\nc=IN {kind} {}\r\nt=0 0\r\n",
        local.session_id, local.version, local.address, local.address
    );
}

fn audio_lines(out: &mut String, port: u16, codec: (G711, u8), te: Option<u8>, dir: Direction) {
    let (codec, pt) = codec;
    let _ = write!(out, "m=audio {port} RTP/AVP {pt}");
    if let Some(te) = te {
        let _ = write!(out, " {te}");
    }
    let _ = write!(out, "\r\na=rtpmap:{pt} {}/8000\r\n", codec.name());
    if let Some(te) = te {
        let _ = write!(
            out,
            "a=rtpmap:{te} telephone-event/8000\r\na=fmtp:{te} 0-15\r\n"
        );
    }
    let _ = write!(out, "a=ptime:20\r\na={}\r\n", dir.attribute());
}

/// Writes the answer to a negotiated offer.
pub fn answer(negotiated: &Negotiated, local: &LocalMedia) -> String {
    let mut out = String::with_capacity(512);
    header(&mut out, local);
    for (i, (kind, protocol, formats)) in negotiated.offered.iter().enumerate() {
        if i == negotiated.media_index {
            audio_lines(
                &mut out,
                local.port,
                (negotiated.codec, negotiated.payload_type),
                negotiated.telephone_event,
                negotiated.direction,
            );
            if negotiated.rtcp_mux {
                out.push_str("a=rtcp-mux\r\n");
            }
        } else {
            let formats = if formats.is_empty() { "0" } else { formats };
            let _ = write!(out, "m={kind} 0 {protocol} {formats}\r\n");
        }
    }
    out
}

/// Writes an offer of our own (PCMU and PCMA, telephone-event 101), for calls we place.
pub fn offer(local: &LocalMedia, direction: Direction) -> String {
    let mut out = String::with_capacity(512);
    header(&mut out, local);
    let _ = write!(
        out,
        "m=audio {} RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n\
         a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=ptime:20\r\na={}\r\n",
        local.port,
        direction.attribute()
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const BARESIP: &str = "v=0\r\no=- 123 456 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n\
        t=0 0\r\nm=audio 10000 RTP/AVP 9 8 0 101\r\na=rtpmap:9 G722/8000\r\n\
        a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=sendrecv\r\n\
        m=video 10002 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n";

    fn local() -> LocalMedia {
        LocalMedia {
            address: "127.0.0.1".parse().unwrap(),
            port: 20000,
            session_id: 1,
            version: 1,
        }
    }

    #[test]
    fn picks_the_first_g711_in_the_offerers_order_and_refuses_video() {
        let offer = parse(BARESIP).unwrap();
        let n = negotiate(&offer).unwrap();
        assert_eq!(n.codec, G711::ALaw);
        assert_eq!(n.telephone_event, Some(101));
        assert_eq!(n.remote_port, 10000);
        assert!(!n.on_hold);
        let text = answer(&n, &local());
        assert!(text.contains("m=audio 20000 RTP/AVP 8 101\r\n"), "{text}");
        assert!(text.contains("m=video 0 RTP/AVP 96\r\n"), "{text}");
        assert!(text.contains("a=sendrecv"));
        // Our own answer parses, and negotiates to the same codec.
        let back = negotiate(&parse(&text).unwrap()).unwrap();
        assert_eq!(back.codec, G711::ALaw);
        assert_eq!(back.remote_port, 20000);
    }

    #[test]
    fn hold_is_sendonly_inactive_or_the_zero_address() {
        let held = BARESIP.replace("a=sendrecv", "a=sendonly");
        let n = negotiate(&parse(&held).unwrap()).unwrap();
        assert!(n.on_hold);
        assert_eq!(n.direction, Direction::RecvOnly);
        let old = BARESIP.replace("c=IN IP4 127.0.0.1", "c=IN IP4 0.0.0.0");
        let n = negotiate(&parse(&old).unwrap()).unwrap();
        assert!(n.on_hold);
        assert_eq!(n.direction, Direction::Inactive);
    }

    #[test]
    fn static_types_need_no_rtpmap_and_media_connection_wins() {
        let text = "v=0\nc=IN IP4 10.0.0.1\nm=audio 4000 RTP/AVP 0\nc=IN IP4 10.0.0.2\n";
        let n = negotiate(&parse(text).unwrap()).unwrap();
        assert_eq!(n.codec, G711::MuLaw);
        assert_eq!(n.remote_addr, "10.0.0.2".parse::<IpAddr>().unwrap());
        assert_eq!(n.telephone_event, None);
    }

    #[test]
    fn unanswerable_offers_say_why() {
        let no_g711 = "v=0\nc=IN IP4 1.2.3.4\nm=audio 4000 RTP/AVP 9\n";
        assert_eq!(
            negotiate(&parse(no_g711).unwrap()),
            Err(SdpError::NoCommonCodec)
        );
        let video = "v=0\nc=IN IP4 1.2.3.4\nm=video 4000 RTP/AVP 96\n";
        assert_eq!(negotiate(&parse(video).unwrap()), Err(SdpError::NoAudio));
        let no_c = "v=0\nm=audio 4000 RTP/AVP 0\n";
        assert_eq!(
            negotiate(&parse(no_c).unwrap()),
            Err(SdpError::NoConnection)
        );
        assert!(matches!(parse("garbage"), Err(SdpError::Syntax { .. })));
        assert!(matches!(
            parse("v=0\nm=audio x RTP/AVP 0"),
            Err(SdpError::Syntax { .. })
        ));
        assert!(matches!(
            parse("v=0\nc=IN IP4 nowhere"),
            Err(SdpError::Syntax { .. })
        ));
        assert!(matches!(
            parse("v=0\nm=audio 1 RTP/AVP 0\na=rtpmap:300 X/1"),
            Err(SdpError::Syntax { .. })
        ));
        assert!(matches!(
            parse("c=IN IP4 1.2.3.4"),
            Err(SdpError::Syntax { .. })
        ));
        let big = "a=x\n".repeat(5000);
        assert!(matches!(parse(&big), Err(SdpError::TooLarge(_))));
    }

    #[test]
    fn a_dynamic_payload_type_is_kept_and_a_re_invite_keeps_the_codec() {
        let dynamic = "v=0\nc=IN IP4 1.2.3.4\nm=audio 4000 RTP/AVP 96 8\na=rtpmap:96 PCMU/8000\n";
        let n = negotiate(&parse(dynamic).unwrap()).unwrap();
        assert_eq!((n.codec, n.payload_type), (G711::MuLaw, 96));
        assert!(answer(&n, &local()).contains("m=audio 20000 RTP/AVP 96\r\na=rtpmap:96 PCMU/8000"));
        let both = "v=0\nc=IN IP4 1.2.3.4\nm=audio 4000 RTP/AVP 0 8\n";
        let n = negotiate_preferring(&parse(both).unwrap(), Some(G711::ALaw)).unwrap();
        assert_eq!((n.codec, n.payload_type), (G711::ALaw, 8));
    }

    #[test]
    fn our_offer_parses() {
        let n = negotiate(&parse(&offer(&local(), Direction::SendRecv)).unwrap()).unwrap();
        assert_eq!(n.codec, G711::MuLaw);
        assert_eq!(n.telephone_event, Some(101));
    }
}
