//! What the Topics tab asks the app for. Kept apart from the tab's drawing so that the app and
//! the panel agree on it while each is built.

/// An action on the topic tree of the connection on view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TreeIntent {
    /// The node's recent messages are wanted (it was selected): read from history off the UI
    /// thread, shown in the detail pane with a diff of each payload against the previous one.
    LoadRecent { topic: String },
    /// Adds a plot series for the topic; `field`: the JSON path picked for a JSON payload
    /// (`$.value`), `None` for a plain number or switch word.
    PlotThis { topic: String, field: Option<String> },
    /// Fills the publish form's topic and shows the Messages tab.
    PublishHere { topic: String },
    /// Subscribes the connection to `filter` (`a/b/#`).
    SubscribeSubtree { filter: String },
    /// Deletes the retained messages after the user confirmed: `filter` is the node's subtree
    /// (`a/b/#`, or the topic itself for one node), `topics` what the tree knows to be retained
    /// there. On the built-in broker the broker clears its store under `filter` at once; on any
    /// other, an empty retained message is published to each of `topics`.
    DeleteRetained { filter: String, topics: Vec<String> },
    /// The built-in broker's facts about the node (subscribers, who stored the retained message
    /// and when) are wanted: read off the UI thread.
    LoadBrokerFacts { topic: String },
}
