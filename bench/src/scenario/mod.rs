//! The scenarios: each connects its clients, runs, and reports one [`Outcome`].

mod conn;
mod cpu;
mod latency;
mod retained;
mod soak;
mod throughput;

use crate::client::{ClientError, Target};
use crate::options::{Options, Scenario};
use crate::report::Outcome;
use crate::transport::{Connector, transport_name};

pub async fn run(o: &Options) -> Result<Outcome, ClientError> {
    match o.scenario {
        Scenario::Conn => conn::run(o).await,
        Scenario::Pub | Scenario::Sub | Scenario::FanIn | Scenario::FanOut => throughput::run(o).await,
        Scenario::Latency => latency::run(o).await,
        Scenario::Retained => retained::run(o).await,
        Scenario::Soak => soak::run(o).await,
    }
}

fn target(o: &Options) -> Result<Target, ClientError> {
    Ok(Target {
        addr: o.addr,
        username: o.username.clone(),
        password: o.password.clone(),
        client_prefix: o.client_prefix.clone(),
        connector: Connector::new(&o.security, &o.host).map_err(ClientError::Tls)?.framed(o.framing.clone()),
        protocol: o.protocol,
    })
}

/// A name for this run's topics and client ids, so that runs against one broker do not mix.
fn run_id() -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    format!("{}-{nanos:x}", std::process::id())
}

fn outcome(o: &Options) -> Outcome {
    Outcome {
        scenario: o.scenario.name().into(),
        label: o.label.clone(),
        qos: o.qos,
        publishers: o.publishers,
        subscribers: o.subscribers,
        payload: o.payload,
        transport: transport_name(&o.security, &o.framing).into(),
        mqtt_version: crate::options::version_name(o.protocol).into(),
        ..Outcome::default()
    }
}
