//! The dialog core: what the assistant can do (the tool catalog) and how its decisions are
//! constrained. (Tool effects, policy, the store and the conversation loop are the rest of the
//! dialog-core issue.)

pub mod catalog;
