//! The dialog core: what the assistant can do (the tool catalog and the tools), the policy
//! that decides what it may do, what it says (replies rendered from facts), and the
//! conversation loop that asks the language model for each next action.

pub mod catalog;
pub mod extract;
pub mod intent;
pub mod language;
pub mod planner;
pub mod reply;
pub mod session;
pub mod tools;
