//! `mqtt-lab-bench relay`: the least a broker can do, to measure the machine's floor.
//!
//! It answers CONNECT, SUBSCRIBE, PINGREQ and the QoS 1/2 handshakes, and copies every PUBLISH,
//! byte for byte, to every connection that has subscribed to anything: no topic matching, no
//! session, no queue, no retained messages. A blocking thread per connection forwards each
//! PUBLISH the moment it is read, so a message costs one wake-up on the relay's core: what is
//! left in its latency is the kernel's (and the hypervisor's) loopback path and the load
//! generator. A broker cannot be faster than this on the same machine; a latency target below
//! it is a target for the machine, not for the broker.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;

use bytes::BytesMut;
use mqtt_lab_broker::codec::{decode_header, put_remaining_length};

/// A connection's write half: its own thread writes acknowledgements to it, publishers'
/// threads write forwarded messages; the lock keeps each packet whole.
type Writer = Arc<Mutex<TcpStream>>;

/// Subscribed connections, by connection number.
type Subscribers = Arc<Mutex<Vec<(u64, Writer)>>>;

pub struct Relay {
    listener: TcpListener,
    subscribers: Subscribers,
}

impl Relay {
    pub fn bind(addr: SocketAddr) -> io::Result<Self> {
        Ok(Self { listener: TcpListener::bind(addr)?, subscribers: Subscribers::default() })
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Accepts connections until the listener fails, each on a thread of its own.
    pub fn serve(self) -> io::Result<()> {
        for (n, stream) in (1..).zip(self.listener.incoming()) {
            let stream = stream?;
            let subscribers = Arc::clone(&self.subscribers);
            thread::Builder::new().name(format!("relay-conn-{n}")).spawn(move || {
                if let Err(e) = serve_connection(n, stream, &subscribers) {
                    eprintln!("relay: connection {n}: {e}");
                }
                lock(&subscribers).retain(|(id, _)| *id != n);
            })?;
        }
        Ok(())
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn serve_connection(n: u64, stream: TcpStream, subscribers: &Subscribers) -> io::Result<()> {
    stream.set_nodelay(true)?;
    let writer: Writer = Arc::new(Mutex::new(stream.try_clone()?));
    let mut reader = stream;
    let mut buf = BytesMut::with_capacity(64 * 1024);
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        let read = reader.read(&mut chunk)?;
        if read == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..read]);
        while let Some(header) = decode_header(&buf).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))? {
            let total = header.header_len + header.remaining_length;
            if buf.len() < total {
                break;
            }
            let packet = buf.split_to(total);
            let body = &packet[header.header_len..];
            match answer(packet[0], body) {
                Reply::Forward(ack) => {
                    lock(subscribers).retain(|(_, s)| lock(s).write_all(&packet).is_ok());
                    if let Some(ack) = ack {
                        lock(&writer).write_all(&ack)?;
                    }
                }
                Reply::Subscribed(suback) => {
                    lock(&writer).write_all(&suback)?;
                    let mut subs = lock(subscribers);
                    if !subs.iter().any(|(id, _)| *id == n) {
                        subs.push((n, Arc::clone(&writer)));
                    }
                }
                Reply::Send(bytes) => lock(&writer).write_all(&bytes)?,
                Reply::Nothing => {}
                Reply::Close => {
                    let _ = reader.shutdown(Shutdown::Both);
                    return Ok(());
                }
            }
        }
    }
}

/// What the relay does with one packet (pure, so it tests without sockets).
#[derive(Debug, PartialEq, Eq)]
enum Reply {
    /// A PUBLISH: copy it to the subscribers, then acknowledge it (QoS 1 and 2).
    Forward(Option<Vec<u8>>),
    /// A SUBSCRIBE: send the SUBACK and count the connection among the subscribers.
    Subscribed(Vec<u8>),
    Send(Vec<u8>),
    Nothing,
    Close,
}

fn answer(first: u8, body: &[u8]) -> Reply {
    let id = |at: usize| body.get(at..at + 2).map_or([0, 0], |b| [b[0], b[1]]);
    match first >> 4 {
        1 => Reply::Send(vec![0x20, 2, 0, 0]),
        3 => {
            let qos = (first >> 1) & 3;
            let topic_len = usize::from(u16::from_be_bytes(id(0)));
            let [hi, lo] = id(2 + topic_len);
            Reply::Forward(match qos {
                1 => Some(vec![0x40, 2, hi, lo]),
                2 => Some(vec![0x50, 2, hi, lo]),
                _ => None,
            })
        }
        // PUBREC from a subscriber: release; PUBREL from a publisher: complete.
        5 => Reply::Send([&[0x62, 2][..], &id(0)].concat()),
        6 => Reply::Send([&[0x70, 2][..], &id(0)].concat()),
        8 => {
            // Grant every filter the QoS it asks for.
            let mut granted = Vec::new();
            let mut at = 2;
            while let Some(len) = body.get(at..at + 2).map(|l| usize::from(u16::from_be_bytes([l[0], l[1]]))) {
                granted.push(body.get(at + 2 + len).map_or(0x80, |q| q & 3));
                at += 3 + len;
            }
            let mut suback = BytesMut::from(&[0x90][..]);
            put_remaining_length(&mut suback, 2 + granted.len());
            suback.extend_from_slice(&id(0));
            suback.extend_from_slice(&granted);
            Reply::Subscribed(suback.to_vec())
        }
        12 => Reply::Send(vec![0xD0, 0]),
        14 => Reply::Close,
        _ => Reply::Nothing,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_the_handshakes() {
        assert_eq!(answer(0x10, &[0, 4, b'M', b'Q', b'T', b'T', 4, 2, 0, 60]), Reply::Send(vec![0x20, 2, 0, 0]));
        // SUBSCRIBE id 7: "a/#" at QoS 1 and "b" at QoS 2.
        let subscribe = [0, 7, 0, 3, b'a', b'/', b'#', 1, 0, 1, b'b', 2];
        assert_eq!(answer(0x82, &subscribe), Reply::Subscribed(vec![0x90, 4, 0, 7, 1, 2]));
        // PUBLISH QoS 1 on "t" with id 0x0102, then QoS 2 with id 9, then QoS 0.
        assert_eq!(answer(0x32, &[0, 1, b't', 1, 2, b'x']), Reply::Forward(Some(vec![0x40, 2, 1, 2])));
        assert_eq!(answer(0x34, &[0, 1, b't', 0, 9]), Reply::Forward(Some(vec![0x50, 2, 0, 9])));
        assert_eq!(answer(0x30, &[0, 1, b't', b'x']), Reply::Forward(None));
        assert_eq!(answer(0x50, &[0, 9]), Reply::Send(vec![0x62, 2, 0, 9]));
        assert_eq!(answer(0x62, &[0, 9]), Reply::Send(vec![0x70, 2, 0, 9]));
        assert_eq!(answer(0xC0, &[]), Reply::Send(vec![0xD0, 0]));
        assert_eq!(answer(0xE0, &[]), Reply::Close);
        assert_eq!(answer(0x40, &[0, 1]), Reply::Nothing);
    }
}
