//! `latency`: one publisher at a fixed rate to one subscriber; each payload carries its send
//! time, so the subscriber measures publish-to-deliver with the process's one clock.

use super::outcome;
use super::throughput::{exchange, tally};
use crate::client::ClientError;
use crate::options::Options;
use crate::report::Outcome;

pub(super) async fn run(o: &Options) -> Result<Outcome, ClientError> {
    let mut o = o.clone();
    (o.publishers, o.subscribers) = (1, 1);
    let run = exchange(&o, 1, Some(o.rate), true).await?;
    Ok(tally(outcome(&o), &run.sent, &run.heard, run.started))
}
