//! Scenario evaluations of the dialog core: scripted callers against a fresh shop, checked
//! for the tools called, what was said, whether the call went to a person, and leaks.

pub mod check;
pub mod memory;
pub mod runner;
pub mod scenario;
pub mod voice;

pub use check::{Verdict, judge};
pub use runner::{EvalSummary, ScenarioRun, quantile, run_scenario, scenario_store, summarize};
pub use scenario::{Scenario, ScenarioError, load_scenarios};
