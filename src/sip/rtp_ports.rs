//! RTP ports for calls: an even port for RTP and the odd one above it for RTCP (RFC 3550
//! section 11), drawn round-robin from a random start in the configured range, bound before
//! the SDP answer names them.

use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;

use tokio::net::UdpSocket;

/// The sockets of one call's media.
pub struct MediaSockets {
    pub rtp: UdpSocket,
    pub rtcp: UdpSocket,
    pub port: u16,
}

/// Hands out port pairs round-robin, skipping those in use (by us or anyone else).
pub struct RtpPorts {
    bind: IpAddr,
    min: u16,
    max: u16,
    next: Mutex<u16>,
}

impl RtpPorts {
    /// `start`: where the round starts (draw it at random, so a call's port is not guessable
    /// from the last one's start).
    pub fn new(bind: IpAddr, min: u16, max: u16, start: u64) -> RtpPorts {
        let min = min + min % 2;
        let pairs = u64::from(max.saturating_sub(min).saturating_add(1) / 2).max(1);
        let first = min + 2 * (start % pairs) as u16;
        RtpPorts {
            bind,
            min,
            max,
            next: Mutex::new(first),
        }
    }

    /// Binds the next free pair, or `None` when every pair in the range is taken.
    pub async fn bind(&self) -> Option<MediaSockets> {
        let pairs = (u32::from(self.max) - u32::from(self.min))
            .div_ceil(2)
            .max(1);
        for _ in 0..pairs {
            let port = {
                let mut next = self.next.lock().unwrap_or_else(|p| p.into_inner());
                let port = *next;
                *next = if port.saturating_add(3) > self.max {
                    self.min
                } else {
                    port + 2
                };
                port
            };
            let Ok(rtp) = UdpSocket::bind(SocketAddr::new(self.bind, port)).await else {
                continue;
            };
            let Ok(rtcp) = UdpSocket::bind(SocketAddr::new(self.bind, port + 1)).await else {
                continue;
            };
            return Some(MediaSockets { rtp, rtcp, port });
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn pairs_are_even_and_odd_and_run_out() {
        let ports = RtpPorts::new("127.0.0.1".parse().unwrap(), 41001, 41005, 0);
        let a = ports.bind().await.unwrap();
        let b = ports.bind().await.unwrap();
        assert_eq!((a.port, b.port), (41002, 41004));
        assert_eq!(a.rtcp.local_addr().unwrap().port(), 41003);
        // The range holds two pairs, both in use.
        assert!(ports.bind().await.is_none());
        drop(a);
        assert_eq!(ports.bind().await.unwrap().port, 41002);
    }
}
