//! `hotline user add|passwd|remove|list`: the supervisor console's users, in the configured
//! database. Passwords are read from standard input (one line), never from the command line.

use std::io::BufRead;

use anyhow::{Context, Result, bail};

use hotline::console::password::hash_password;
use hotline::console::routes::valid_user_name;
use hotline::console::sessions::Role;
use hotline::store::Store;

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

fn read_password() -> Result<String> {
    eprintln!("password (one line on standard input):");
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading the password")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

fn parse_role(role: &str) -> Result<Role> {
    Role::parse(role).with_context(|| format!("the role is supervisor or admin, not {role:?}"))
}

/// Adds a user with `role`.
pub fn add(url: &str, name: &str, role: &str) -> Result<()> {
    if !valid_user_name(name) {
        bail!("a user name has 1 to 64 letters, digits, . - _ or @");
    }
    let role = parse_role(role)?;
    let hash = hash_password(&read_password()?)?;
    runtime()?.block_on(async {
        let store = Store::open(url).await?;
        if store.console_user(name).await?.is_some() {
            bail!("user {name} exists (hotline user passwd changes the password)");
        }
        store
            .add_console_user(name, role.as_str(), &hash, &hotline::store::now_utc())
            .await?;
        println!("user {name} ({}) added to {}", role.as_str(), store.url());
        Ok(())
    })
}

/// Sets an existing user's password, and their role when `role` is given (else it stays).
/// Their logins end.
pub fn passwd(url: &str, name: &str, role: Option<&str>) -> Result<()> {
    let role = role.map(parse_role).transpose()?;
    let hash = hash_password(&read_password()?)?;
    runtime()?.block_on(async {
        let store = Store::open(url).await?;
        let Some(user) = store.console_user(name).await? else {
            bail!("no user {name} (hotline user add makes one)");
        };
        let role = role.map_or(user.role.clone(), |r| r.as_str().to_string());
        store.update_console_user(name, &role, &hash).await?;
        println!("user {name} ({role}): password changed");
        Ok(())
    })
}

pub fn remove(url: &str, name: &str) -> Result<()> {
    runtime()?.block_on(async {
        let store = Store::open(url).await?;
        if !store.remove_console_user(name).await? {
            bail!("no user {name}");
        }
        println!("user {name} removed");
        Ok(())
    })
}

pub fn list(url: &str) -> Result<()> {
    runtime()?.block_on(async {
        let store = Store::open(url).await?;
        for u in store.console_users().await? {
            println!("{}\t{}\t{}", u.name, u.role, u.created);
        }
        Ok(())
    })
}
