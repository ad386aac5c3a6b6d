//! `hotline chat [--caller-id PHONE]`: the text channel, a conversation in the terminal with
//! the same dialog core the phone uses, on the configured shop database.

use std::io::{BufRead, Write};
use std::sync::Arc;

use anyhow::{Context, Result};

use hotline::config::Config;
use hotline::dialog::extract::Extractor;
use hotline::dialog::language::Language;
use hotline::dialog::planner::Planner;
use hotline::dialog::session::{Clock, Session, SessionOptions};
use hotline::onnx_runtime;
use hotline::store::Store;

pub fn run(config: &Config, caller_id: Option<String>, language: Language) -> Result<()> {
    let ort = onnx_runtime::init(&config.models.onnxruntime)?;
    let planner = Planner::load(&ort, &config.llm).context("loading the dialog model")?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let store = runtime
        .block_on(Store::open(&config.store.url))
        .context("opening the shop database (run `hotline db seed` for a demo shop)")?;
    let call_id = format!(
        "text-{}-{}",
        hotline::store::now_utc().replace([':', '-'], ""),
        std::process::id()
    );
    let (mut session, opening) = runtime.block_on(Session::start(
        store.clone(),
        planner,
        Arc::new(Extractor::new()),
        SessionOptions {
            call_id,
            channel: "text".into(),
            caller_id,
            known_customer: None,
            // No person waits behind the text channel.
            live_transfer: false,
            clock: Clock::System,
            language,
            use_lexicon: true,
            redact: config.privacy.redactor().map(Arc::new),
        },
    ));
    for reply in &opening.replies {
        println!("assistant: {reply}");
    }
    let stdin = std::io::stdin();
    let mut line = String::new();
    loop {
        print!("you: ");
        std::io::stdout().flush().ok();
        line.clear();
        // A line that is not UTF-8 is skipped, not fatal.
        match stdin.lock().read_line(&mut line) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
                println!("\nassistant: (that line was not readable text)");
                continue;
            }
            Err(e) => return Err(e).context("reading the terminal"),
        }
        if line.trim().is_empty() {
            continue;
        }
        let out = runtime.block_on(session.handle(&line));
        if !std::io::IsTerminal::is_terminal(&std::io::stdin()) {
            println!();
        }
        for reply in &out.replies {
            println!("assistant: {reply}");
        }
        for tool in &out.tools {
            tracing::info!(tool = %tool.name, args = %tool.args, outcome = tool.outcome.as_str(), "{}", tool.detail);
        }
        if out.ended {
            if out.transferred {
                println!("(transferred to a colleague; the summary is in the call's ticket)");
            }
            break;
        }
    }
    runtime.block_on(store.close());
    Ok(())
}
