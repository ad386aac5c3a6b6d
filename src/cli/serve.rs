//! `hotline serve`: the phone line and the shop's voice button. Loads the engines, opens the
//! shop database (an empty one gets the demo shop), answers SIP calls and browser calls until
//! Ctrl-C or SIGTERM.

use std::sync::Arc;

use anyhow::{Context, Result};

use hotline::call::engines::Engines;
use hotline::call::registry::CallRegistry;
use hotline::config::Config;
use hotline::console::password::{hash_password, verify_password};
use hotline::console::routes::ConsoleContext;
use hotline::onnx_runtime;
use hotline::sip::server::SipServer;
use hotline::store::{Store, seed};
use hotline::web::server::WebServer;

/// The demo shop an empty database gets (the same as `hotline db seed`'s defaults).
const DEMO_SEED: u64 = 42;
const DEMO_CUSTOMERS: usize = 20;
/// The console users the demo shop gets (README, "Supervisor console").
const DEMO_USERS: [(&str, &str, &str); 2] = [
    ("supervisor", "supervisor", "hotline-demo-supervisor"),
    ("admin", "admin", "hotline-demo-admin"),
];

pub fn run(config: &Config) -> Result<()> {
    let (engines, runtime) = engines_and_runtime(config)?;
    runtime.block_on(async {
        let store = open_shop(config).await?;
        // The console lives on the web server: without it, there is none.
        let console = (config.web.enabled && config.console.enabled).then(|| {
            let record_dirs = [&config.web.record_dir, &config.sip.record_dir]
                .into_iter()
                .flatten()
                .cloned()
                .collect();
            Arc::new(ConsoleContext::new(
                store.clone(),
                CallRegistry::new(),
                config.console.clone(),
                record_dirs,
            ))
        });
        let web = if config.web.enabled {
            let web = WebServer::start(
                engines.clone(),
                store.clone(),
                config.web.clone(),
                console.clone(),
            )
            .await
            .context("starting the web server")?;
            println!(
                "hotline: the demo shop with its voice button is at http://{}/shop",
                web.addr
            );
            if console.is_some() {
                println!(
                    "hotline: the supervisor console is at http://{}/console",
                    web.addr
                );
                warn_about_console_users(&store).await?;
            }
            Some(web)
        } else {
            None
        };
        let sip_console = console
            .as_ref()
            .map(|c| (c.registry.clone(), c.config.hold_for_person()));
        let server = SipServer::start(engines, store.clone(), config.sip.clone(), sip_console)
            .await
            .context("starting the SIP server")?;
        println!(
            "hotline: answering calls at sip:hotline@{} (UDP and TCP); Ctrl-C stops",
            server.sip_addr
        );
        shutdown_signal().await;
        println!(
            "hotline: stopping ({} calls in progress)",
            server.active_calls() + web.as_ref().map_or(0, WebServer::active_calls)
        );
        if let Some(web) = web {
            web.shutdown().await;
        }
        server.shutdown().await;
        store.close().await;
        Ok(())
    })
}

/// Says when the console has no users, or a demo user still has the demo password (which the
/// README gives to everyone).
async fn warn_about_console_users(store: &Store) -> Result<()> {
    let users = store.console_users().await?;
    if users.is_empty() {
        println!(
            "hotline: the console has no users yet: add one with `hotline user add NAME --role admin`"
        );
    }
    for (name, _, password) in DEMO_USERS {
        if let Some(u) = users.iter().find(|u| u.name == name)
            && verify_password(password, Some(&u.password_hash))
        {
            println!(
                "hotline: WARNING: console user {name} still has the demo password from the README; change it (hotline user passwd {name}) before this console is reachable by anyone else"
            );
        }
    }
    Ok(())
}

/// The engines of calls (models loaded and warmed) and the async runtime they run on.
pub fn engines_and_runtime(config: &Config) -> Result<(Engines, tokio::runtime::Runtime)> {
    let ort = onnx_runtime::init(&config.models.onnxruntime)?;
    eprintln!("hotline: loading the engines ...");
    let engines = Engines::load(&ort, config).context("loading the engines")?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    Ok((engines, runtime))
}

/// The configured shop database; an empty one gets the demo shop.
pub async fn open_shop(config: &Config) -> Result<Store> {
    let store = Store::open(&config.store.url)
        .await
        .with_context(|| format!("opening the shop database {}", config.store.url))?;
    if store.products().await?.is_empty() {
        let shop = seed(&store, DEMO_SEED, DEMO_CUSTOMERS).await?;
        eprintln!(
            "hotline: the database was empty; seeded the demo shop ({} customers, {} orders)",
            shop.customers.len(),
            shop.orders.len()
        );
        if let Some(c) = shop.customers.first() {
            eprintln!("  for example, call as {} ({})", c.phone, c.name);
        }
        if store.console_users().await?.is_empty() {
            for (name, role, password) in DEMO_USERS {
                let hash = hash_password(password)?;
                store
                    .add_console_user(name, role, &hash, &hotline::store::now_utc())
                    .await?;
            }
            eprintln!(
                "  the console's demo users: supervisor / {} and admin / {} (change them: hotline user passwd)",
                DEMO_USERS[0].2, DEMO_USERS[1].2
            );
        }
    }
    Ok(store)
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
