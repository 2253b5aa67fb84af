use std::collections::BTreeSet;
use std::net::SocketAddr;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::*;
use crate::options::{Options, Scenario};
use crate::wire::CONNACK;

/// How late the broker below answers a QoS 2 PUBLISH: far longer than a publisher takes to
/// see its stop, far shorter than [`QUIET`].
const LATE: Duration = Duration::from_millis(200);

/// A broker that holds QoS 2 messages until PUBREL (as Mosquitto does) and answers PUBREC
/// [`LATE`]; it tells `first` of the first QoS 2 PUBLISH and ends with the count released and
/// the count still held at DISCONNECT.
async fn holding_broker(first: oneshot::Sender<()>) -> (SocketAddr, JoinHandle<(usize, usize)>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let served = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let (mut rx, tx) = tcp.into_split();
        let tx = Arc::new(tokio::sync::Mutex::new(tx));
        let (mut first, mut buf) = (Some(first), BytesMut::new());
        let (mut held, mut released) = (BTreeSet::new(), 0);
        loop {
            if rx.read_buf(&mut buf).await.unwrap_or(0) == 0 {
                return (released, held.len());
            }
            let mut out = BytesMut::new();
            let mut disconnected = false;
            drain_frames(&mut buf, false, |f| match f {
                Frame::Other { kind: 1, .. } => out.extend_from_slice(&[CONNACK << 4, 2, 0, 0]),
                Frame::Publish { qos: 1, pid, .. } => put_ack(&mut out, PUBACK, pid),
                Frame::Publish { qos: 2, pid, .. } => {
                    held.insert(pid);
                    if let Some(first) = first.take() {
                        let _ = first.send(());
                    }
                    let tx = tx.clone();
                    tokio::spawn(async move {
                        tokio::time::sleep(LATE).await;
                        let mut rec = BytesMut::new();
                        put_ack(&mut rec, PUBREC, pid);
                        let _ = tx.lock().await.write_all(&rec).await;
                    });
                }
                Frame::Ack { kind: PUBREL, pid, .. } => {
                    released += usize::from(held.remove(&pid));
                    put_ack(&mut out, PUBCOMP, pid);
                }
                Frame::Other { kind: 14, .. } => disconnected = true,
                _ => {}
            })
            .unwrap();
            if disconnected {
                return (released, held.len());
            }
            tx.lock().await.write_all(&out).await.unwrap();
        }
    });
    (addr, served)
}

#[tokio::test]
async fn a_stopped_publisher_finishes_its_qos_2_flows_before_it_goes() {
    let (first_tx, first) = oneshot::channel();
    let (addr, served) = holding_broker(first_tx).await;
    let target = crate::scenario::target(&Options::new(Scenario::Soak, addr)).unwrap();
    let client = Client::connect(&target, "p", 30).await.unwrap();
    let ((stop_tx, stop), (_go_tx, go)) = (watch::channel(false), watch::channel(true));
    let counters = Arc::new(Counters::default());
    let role = Role { keepalive: Duration::from_secs(30), stop, go, counters: counters.clone() };
    let publishing = tokio::spawn(async move { role.publish(client, "t", 0, Duration::from_millis(5), 64).await });
    first.await.unwrap();
    stop_tx.send(true).unwrap();
    assert!(matches!(publishing.await.unwrap(), Ended::Publisher));
    let (released, held) = served.await.unwrap();
    assert_eq!(held, 0, "QoS 2 messages left without PUBREL ({released} released)");
    assert!(released >= 1);
    assert_eq!(Counters::get(&counters.disconnects), 0);
}
