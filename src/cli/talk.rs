//! `hotline talk [--caller-id PHONE] [--seconds N] [--record FILE]`: a call through this
//! machine's default microphone and speaker, with the same pipeline as phone and browser calls.
//! What both sides say is printed as it happens. Ctrl-C, the assistant's goodbye or `--seconds`
//! ends it.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use tokio::sync::broadcast;

use hotline::call::actor::{CallCommand, CallEvent};
use hotline::call::device_transport::DeviceTransport;
use hotline::call::pipeline::{CallSetup, start_call};
use hotline::config::Config;
use hotline::dialog::language::Language;
use hotline::dialog::session::Clock;

pub struct TalkArgs {
    pub caller_id: Option<String>,
    pub seconds: Option<u64>,
    pub record: Option<PathBuf>,
    pub language: Language,
}

pub fn run(config: &Config, args: TalkArgs) -> Result<()> {
    let (engines, runtime) = super::serve::engines_and_runtime(config)?;
    runtime.block_on(async {
        let store = super::serve::open_shop(config).await?;
        let transport = DeviceTransport::open().context("opening the microphone and speaker")?;
        let call_id = format!(
            "mic-{}-{}",
            hotline::store::now_utc().replace([':', '-'], ""),
            std::process::id()
        );
        let setup = CallSetup {
            call_id: call_id.clone(),
            channel: "mic".into(),
            // Whoever sits at this machine is trusted to say who they are, as in `hotline chat`.
            caller_id: args.caller_id,
            known_customer: None,
            live_transfer: false,
            clock: Clock::System,
            language: args.language,
            use_lexicon: true,
            store: store.clone(),
            record_to: args.record,
            hold_for_person: None,
            registry: None,
        };
        let mut handle =
            start_call(&engines, Box::new(transport), setup).context("starting the call")?;
        eprintln!("hotline: talking (Ctrl-C hangs up)");
        let commands = handle.commands.clone();
        // The events from the greeting on (subscribed before the call started).
        let later = handle.subscribe();
        let mut events = std::mem::replace(&mut handle.events, later);
        let limit = args.seconds.map_or(Duration::MAX, Duration::from_secs);
        let deadline = tokio::time::sleep(limit.min(Duration::from_secs(86_400 * 365)));
        tokio::pin!(deadline);
        let mut hung_up = false;
        loop {
            tokio::select! {
                event = events.recv() => match event {
                    Ok(CallEvent::CallerTurn { text, dtmf, .. }) => {
                        println!("caller: {}{text}", if dtmf { "(keys) " } else { "" });
                    }
                    Ok(CallEvent::Reply { text, .. }) => println!("assistant: {text}"),
                    Ok(CallEvent::Latency(l)) => eprintln!("  {}", l.line()),
                    Ok(CallEvent::Ended(end)) => {
                        eprintln!("hotline: call ended ({end:?})");
                        break;
                    }
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(broadcast::error::RecvError::Closed) => break,
                },
                _ = &mut deadline, if !hung_up => {
                    hung_up = true;
                    let _ = commands.send(CallCommand::Hangup).await;
                }
                _ = tokio::signal::ctrl_c(), if !hung_up => {
                    hung_up = true;
                    let _ = commands.send(CallCommand::Hangup).await;
                }
            }
        }
        handle.finished().await;
        store.close().await;
        Ok(())
    })
}
