//! `hotline db seed`: a deterministic demo shop in the configured database.

use anyhow::{Context, Result};

use hotline::store::{Store, seed};

pub fn seed_demo(url: &str, seed_value: u64, customers: usize) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let shop = runtime.block_on(async {
        let store = Store::open(url).await?;
        seed(&store, seed_value, customers).await
    })?;
    println!(
        "seeded {url} from seed {seed_value}: {} customers, {} products, {} orders, {} shipments",
        shop.customers.len(),
        shop.products.len(),
        shop.orders.len(),
        shop.shipments.len()
    );
    if let Some(c) = shop.customers.first() {
        println!("for example: {} calls from {}", c.name, c.phone);
    }
    Ok(())
}
