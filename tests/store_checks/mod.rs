//! The shop-database checks that SQLite and PostgreSQL must both pass, given a migrated store.
#![allow(dead_code)] // each test binary uses a different part of the checks

use hotline::store::{self, Fixture, NewTicket, Outcome, Store, StoreError, Turn};
use serde_json::json;

/// Seeding is deterministic: the stored shop is exactly what `generate` gives, a reseed with
/// the same seed changes nothing, and another seed gives another shop.
pub async fn seed_is_deterministic(db: &Store) {
    let first = store::seed(db, 42, 25).await.expect("seed");
    let stored = db.dump_shop().await.expect("dump");
    assert_eq!(
        stored, first,
        "the database holds exactly the generated shop"
    );
    assert_eq!(stored, store::seed::generate(42, 25));
    store::seed(db, 42, 25).await.expect("reseed");
    assert_eq!(
        db.dump_shop().await.unwrap(),
        first,
        "reseeding with the same seed changes nothing"
    );
    let other = store::seed(db, 43, 25).await.expect("seed 43");
    assert_ne!(other.customers, first.customers);
    assert_ne!(other.orders, first.orders);
    assert_eq!(db.dump_shop().await.unwrap(), other);

    // A realistic shop: 12 products, every order status, parcels with scans.
    assert_eq!(first.products.len(), 12);
    assert_eq!(first.customers.len(), 25);
    for status in ["placed", "shipped", "delivered", "cancelled"] {
        assert!(
            first.orders.iter().any(|o| o.status == status),
            "no {status} order"
        );
    }
    assert!(
        first
            .customers
            .iter()
            .all(|c| c.phone.starts_with("+1555") && c.phone.len() == 12)
    );
    assert!(
        first
            .orders
            .iter()
            .all(|o| o.id.len() == 6 && o.id.bytes().all(|b| b.is_ascii_digit()))
    );
    assert!(first.shipments.iter().all(|s| {
        first
            .tracking_events
            .iter()
            .any(|e| e.order_id == s.order_id)
    }));
    assert!(!first.order_items.is_empty());
}

/// The reads and order changes the dialog tools use, on the demo shop of seed 42.
pub async fn queries_answer_the_tools(db: &Store) {
    let shop = store::seed(db, 42, 25).await.expect("seed");
    let customer = &shop.customers[3];
    let found = db
        .customer_by_phone(&customer.phone)
        .await
        .unwrap()
        .expect("customer by phone");
    assert_eq!(&found, customer);
    assert_eq!(db.customer_by_phone("+15559999999").await.unwrap(), None);
    assert_eq!(
        db.customer(&customer.id).await.unwrap().as_ref(),
        Some(customer)
    );

    let orders = db.orders_of_customer(&customer.id).await.unwrap();
    let mut expected: Vec<_> = shop
        .orders
        .iter()
        .filter(|o| o.customer_id == customer.id)
        .cloned()
        .collect();
    expected.sort_by(|a, b| (&b.placed, &b.id).cmp(&(&a.placed, &a.id)));
    assert_eq!(orders, expected, "newest first");

    let shipped = shop.orders.iter().find(|o| o.status == "shipped").unwrap();
    let detail = db.order(&shipped.id).await.unwrap().expect("order");
    assert_eq!(&detail.order, shipped);
    assert!(!detail.items.is_empty());
    assert!(detail.total_cents() > 0);
    let shipment = detail
        .shipment
        .as_ref()
        .expect("a shipped order has a parcel");
    assert_ne!(shipment.status, "delivered");
    assert!(!detail.events.is_empty());
    assert!(
        detail
            .events
            .windows(2)
            .all(|w| w[0].seq < w[1].seq && w[0].at <= w[1].at)
    );
    assert_eq!(db.order("000000").await.unwrap(), None);

    assert_eq!(db.products().await.unwrap(), shop.products);
    let tee = db.product("TEE-01").await.unwrap().unwrap();
    assert_eq!(
        (tee.price_cents, tee.variant_list()),
        (2499, vec!["S".into(), "M".into(), "L".into(), "XL".into()])
    );
    assert_eq!(db.stock_of("TEE-01").await.unwrap().len(), 4);

    // Only an order that has not shipped can be cancelled or redirected.
    let placed = shop.orders.iter().find(|o| o.status == "placed").unwrap();
    let moved = db
        .change_shipping_address(&placed.id, "5 New St", "Newtown", "12345")
        .await
        .unwrap();
    assert_eq!(
        (moved.ship_street.as_str(), moved.ship_zip.as_str()),
        ("5 New St", "12345")
    );
    assert_eq!(
        db.cancel_order(&placed.id).await.unwrap().status,
        "cancelled"
    );
    assert_eq!(
        db.cancel_order(&placed.id).await.unwrap().status,
        "cancelled",
        "cancelling twice is a no-op"
    );
    assert!(matches!(
        db.cancel_order(&shipped.id).await,
        Err(StoreError::Conflict { .. })
    ));
    assert!(matches!(
        db.change_shipping_address(&shipped.id, "x", "y", "00000")
            .await,
        Err(StoreError::Conflict { .. })
    ));
    assert!(matches!(
        db.cancel_order("000000").await,
        Err(StoreError::NotFound { .. })
    ));
}

/// A repeated return, refund or exchange request never creates a second one.
pub async fn requests_are_idempotent(db: &Store) {
    let shop = store::seed(db, 42, 25).await.expect("seed");
    let delivered = shop
        .orders
        .iter()
        .find(|o| o.status == "delivered")
        .unwrap();
    let item = shop
        .order_items
        .iter()
        .find(|i| i.order_id == delivered.id)
        .unwrap();

    let first = db
        .insert_return(&delivered.id, &item.sku, "too small", "2026-03-02")
        .await
        .unwrap();
    assert!(first.created);
    assert_eq!(first.row.state, "requested");
    let again = db
        .insert_return(&delivered.id, &item.sku, "changed my mind", "2026-03-03")
        .await
        .unwrap();
    assert!(!again.created);
    assert_eq!(
        again.row, first.row,
        "the first return stands, reason and date included"
    );
    assert_eq!(
        db.returns_of_order(&delivered.id).await.unwrap(),
        vec![first.row.clone()]
    );
    assert!(matches!(
        db.insert_return(&delivered.id, "NOPE-99", "x", "2026-03-02")
            .await,
        Err(StoreError::NotFound { what: "item", .. })
    ));
    assert!(matches!(
        db.insert_return("000000", &item.sku, "x", "2026-03-02")
            .await,
        Err(StoreError::NotFound { what: "order", .. })
    ));

    assert!(db.refund_for_order(&delivered.id).await.unwrap().is_empty());
    let amount = item.qty * item.price_cents;
    let refund = db
        .insert_refund(&delivered.id, &first.row.id, amount, "2026-03-02")
        .await
        .unwrap();
    assert!(refund.created);
    let repeat = db
        .insert_refund(&delivered.id, &first.row.id, amount * 2, "2026-03-04")
        .await
        .unwrap();
    assert!(!repeat.created);
    assert_eq!(repeat.row.amount_cents, amount);
    assert_eq!(
        db.refund_for_order(&delivered.id).await.unwrap(),
        vec![refund.row]
    );

    // Exchanges: to a variant in stock, once; a sold-out or unknown variant is refused.
    let with_variants = shop
        .order_items
        .iter()
        .find(|i| {
            shop.stock.iter().any(|s| {
                s.sku == i.sku && s.variant != i.variant && s.in_stock > 0 && !s.variant.is_empty()
            })
        })
        .unwrap();
    let target = shop
        .stock
        .iter()
        .find(|s| {
            s.sku == with_variants.sku && s.variant != with_variants.variant && s.in_stock > 0
        })
        .unwrap();
    let ex = db
        .request_exchange(
            &with_variants.order_id,
            &with_variants.sku,
            &target.variant,
            "2026-03-02",
        )
        .await
        .unwrap();
    assert!(ex.created);
    assert_eq!(
        (ex.row.from_variant.as_str(), ex.row.to_variant.as_str()),
        (with_variants.variant.as_str(), target.variant.as_str())
    );
    let ex2 = db
        .request_exchange(
            &with_variants.order_id,
            &with_variants.sku,
            &target.variant,
            "2026-03-05",
        )
        .await
        .unwrap();
    assert!(!ex2.created);
    assert_eq!(ex2.row, ex.row);
    assert!(matches!(
        db.request_exchange(
            &with_variants.order_id,
            &with_variants.sku,
            "XXXL",
            "2026-03-02"
        )
        .await,
        Err(StoreError::NotFound {
            what: "variant",
            ..
        })
    ));
}

/// Calls, their turns, the tool audit, tickets and surveys.
pub async fn calls_are_recorded(db: &Store) {
    let shop = store::seed(db, 42, 25).await.expect("seed");
    let customer = &shop.customers[0];
    db.start_call(
        "call-1",
        "2026-03-02T10:00:00Z",
        "sip",
        Some(&customer.phone),
    )
    .await
    .unwrap();
    assert!(matches!(
        db.start_call("call-1", "2026-03-02T10:00:00Z", "sip", None)
            .await,
        Err(StoreError::Conflict { .. })
    ));
    db.identify_caller("call-1", &customer.id).await.unwrap();

    let args = json!({"order_id": "123456", "reason": "late"});
    assert_eq!(
        db.record_audit(
            "call-1",
            "2026-03-02T10:00:05Z",
            "cancel_order",
            &args,
            Outcome::Denied,
            "identity not verified"
        )
        .await
        .unwrap(),
        1
    );
    assert_eq!(
        db.record_audit(
            "call-1",
            "2026-03-02T10:00:09Z",
            "verify_identity",
            &json!({}),
            Outcome::Ok,
            ""
        )
        .await
        .unwrap(),
        2
    );
    let audit = db.audit_of_call("call-1").await.unwrap();
    assert_eq!(audit.len(), 2);
    assert_eq!(
        (audit[0].tool.as_str(), audit[0].outcome.as_str()),
        ("cancel_order", "denied")
    );
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&audit[0].args).unwrap(),
        args
    );
    assert!(matches!(
        db.record_audit(
            "no-such-call",
            "2026-03-02T10:00:05Z",
            "x",
            &json!({}),
            Outcome::Ok,
            ""
        )
        .await,
        Err(StoreError::Conflict { .. })
    ));

    let turn = Turn {
        call_id: "call-1".into(),
        idx: 0,
        role: "caller".into(),
        text: "Where is my parcel?".into(),
        asr_ms: Some(180),
        llm_first_ms: None,
        tts_first_ms: None,
        end_to_end_ms: Some(640),
        answer_ms: Some(900),
    };
    db.record_turn(&turn).await.unwrap();
    db.record_turn(&Turn {
        idx: 1,
        role: "assistant".into(),
        text: "Let me look.".into(),
        ..turn.clone()
    })
    .await
    .unwrap();
    let turns = db.turns_of_call("call-1").await.unwrap();
    assert_eq!(turns.len(), 2);
    assert_eq!(turns[0], turn);

    let ticket = db
        .insert_ticket(&NewTicket {
            kind: "transfer",
            call_id: Some("call-1"),
            customer_id: Some(&customer.id),
            order_id: None,
            summary: "Wants to speak to a person about a late parcel.",
            created: "2026-03-02T10:01:00Z",
        })
        .await
        .unwrap();
    assert_eq!(ticket.id, "T000001");
    let second = db
        .insert_ticket(&NewTicket {
            kind: "complaint",
            call_id: Some("call-1"),
            summary: "Rude courier.",
            created: "2026-03-02T10:02:00Z",
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(second.id, "T000002");
    assert_eq!(
        db.tickets_of_call("call-1").await.unwrap(),
        vec![ticket, second]
    );

    assert!(matches!(
        db.record_survey("call-1", 6, "2026-03-02T10:03:00Z").await,
        Err(StoreError::Invalid { .. })
    ));
    assert_eq!(db.survey("call-1").await.unwrap(), None);
    db.record_survey("call-1", 4, "2026-03-02T10:03:00Z")
        .await
        .unwrap();
    db.record_survey("call-1", 5, "2026-03-02T10:03:05Z")
        .await
        .unwrap();
    assert_eq!(
        db.survey("call-1").await.unwrap().unwrap().score,
        5,
        "a second answer replaces the first"
    );
    // The CHECK constraint holds even for SQL that bypasses the API.
    let raw = sqlx::query("UPDATE surveys SET score = 9 WHERE call_id = 'call-1'")
        .execute(db.pool())
        .await;
    assert!(raw.is_err(), "score 9 violates the CHECK constraint");

    db.end_call("call-1", "2026-03-02T10:04:00Z", "transferred")
        .await
        .unwrap();
    let call = db.call("call-1").await.unwrap().unwrap();
    assert_eq!(
        (call.customer_id.as_deref(), call.outcome.as_deref()),
        (Some(customer.id.as_str()), Some("transferred"))
    );
    assert!(matches!(
        db.end_call("nope", "x", "y").await,
        Err(StoreError::NotFound { .. })
    ));
}

/// The scenario fixture shape (as JSON here; YAML maps onto the same serde structs).
pub fn fixture() -> Fixture {
    serde_json::from_value(json!({
        "customers": [
            {"id": "C1", "name": "Ada Lovelace", "phone": "+15550100001", "email": "ada@example.com", "zip": "94110"},
            {"id": "C2", "name": "Alan Turing", "phone": "+15550100002", "email": "alan@example.com", "zip": "10001"}
        ],
        "products": [
            {"sku": "JEAN-03", "name": "Slim jeans", "price": "79.99", "variants": ["30", "32"], "stock": {"32": 0}},
            {"sku": "BAG-08", "name": "Tote bag", "price": "29"}
        ],
        "orders": [
            {"id": "482913", "customer": "C1", "placed": "2026-02-20", "status": "shipped",
             "items": [{"sku": "JEAN-03", "qty": 2, "variant": "30"}, {"sku": "BAG-08", "qty": 1}],
             "shipment": {"carrier": "UPS", "tracking": "1Z999AA10123456784", "status": "in_transit", "eta": "2026-03-04"}},
            {"id": "100200", "customer": "C2", "placed": "2026-03-01", "status": "placed",
             "items": [{"sku": "BAG-08", "qty": 1}]}
        ]
    }))
    .expect("fixture parses")
}

/// A fixture loads exactly, with prices in exact cents, and a broken one is refused whole.
pub async fn fixture_round_trip(db: &Store) {
    let fixture = fixture();
    let shop = store::load_fixture(db, &fixture)
        .await
        .expect("load fixture");
    assert_eq!(db.dump_shop().await.unwrap(), shop);
    let order = db.order("482913").await.unwrap().unwrap();
    assert_eq!(order.items.len(), 2);
    assert_eq!(order.items[0].price_cents, 7999);
    assert_eq!(order.total_cents(), 2 * 7999 + 2900);
    assert_eq!(order.shipment.unwrap().tracking, "1Z999AA10123456784");
    assert_eq!(
        db.customer_by_phone("+15550100002")
            .await
            .unwrap()
            .unwrap()
            .id,
        "C2"
    );
    let stock = db.stock_of("JEAN-03").await.unwrap();
    assert_eq!(
        stock.iter().map(|s| s.in_stock).collect::<Vec<_>>(),
        vec![10, 0]
    );
    assert!(
        matches!(
            db.request_exchange("482913", "JEAN-03", "32", "2026-03-02")
                .await,
            Err(StoreError::Conflict { .. })
        ),
        "variant 32 is sold out"
    );

    let mut bad = fixture.clone();
    bad.products[0].price = "79.999".into();
    assert!(matches!(
        store::load_fixture(db, &bad).await,
        Err(StoreError::Invalid { .. })
    ));
    let mut bad = fixture.clone();
    bad.orders[0].customer = "C9".into();
    assert!(matches!(
        store::load_fixture(db, &bad).await,
        Err(StoreError::Invalid { .. })
    ));
    // The database refuses what only it checks (a five-digit order id), and nothing changes.
    let mut bad = fixture.clone();
    bad.orders[1].id = "12345".into();
    assert!(matches!(
        store::load_fixture(db, &bad).await,
        Err(StoreError::Conflict { .. })
    ));
    assert_eq!(
        db.dump_shop().await.unwrap(),
        shop,
        "a failed load leaves the shop as it was"
    );
}

/// The console's users, supervisors' notes, call history search and the KPI reads.
pub async fn console_records(db: &Store) {
    use hotline::store::console::CallSearch;
    let shop = store::seed(db, 42, 25).await.expect("seed");
    let (a, b) = (&shop.customers[0], &shop.customers[1]);
    let order = &shop
        .orders
        .iter()
        .find(|o| o.customer_id == a.id)
        .unwrap()
        .id;

    db.add_console_user(
        "ana",
        "supervisor",
        "$argon2id$hash",
        "2026-03-01T09:00:00Z",
    )
    .await
    .unwrap();
    assert!(matches!(
        db.add_console_user("ana", "admin", "x", "2026-03-01T09:00:00Z")
            .await,
        Err(StoreError::Conflict { .. })
    ));
    assert!(
        matches!(
            db.add_console_user("bo", "owner", "x", "2026-03-01T09:00:00Z")
                .await,
            Err(StoreError::Conflict { .. })
        ),
        "only supervisor and admin roles"
    );
    db.update_console_user("ana", "admin", "$argon2id$new")
        .await
        .unwrap();
    let ana = db.console_user("ana").await.unwrap().unwrap();
    assert_eq!(
        (ana.role.as_str(), ana.password_hash.as_str()),
        ("admin", "$argon2id$new")
    );
    assert!(db.console_user("nobody").await.unwrap().is_none());
    assert_eq!(db.console_users().await.unwrap().len(), 1);

    db.start_call("h-1", "2026-03-02T10:00:00Z", "sip", Some(&a.phone))
        .await
        .unwrap();
    db.start_call("h-2", "2026-03-03T11:00:00Z", "webrtc", None)
        .await
        .unwrap();
    db.start_call("h-3", "2026-03-04T12:00:00Z", "sip", Some(&b.phone))
        .await
        .unwrap();
    db.record_audit(
        "h-2",
        "2026-03-03T11:00:05Z",
        "get_order_status",
        &json!({ "order_id": order }),
        Outcome::Ok,
        "",
    )
    .await
    .unwrap();
    db.end_call("h-1", "2026-03-02T10:03:00Z", "resolved")
        .await
        .unwrap();
    db.end_call("h-2", "2026-03-03T11:01:00Z", "transferred")
        .await
        .unwrap();
    assert_eq!(
        db.record_note(
            "h-2",
            "2026-03-03T11:00:30Z",
            "ana",
            "guidance",
            "offer free return shipping"
        )
        .await
        .unwrap(),
        1
    );
    assert_eq!(
        db.record_note("h-2", "2026-03-03T11:00:40Z", "ana", "take-over", "")
            .await
            .unwrap(),
        2
    );
    let notes = db.notes_of_call("h-2").await.unwrap();
    assert_eq!(
        notes.iter().map(|n| n.kind.as_str()).collect::<Vec<_>>(),
        ["guidance", "take-over"]
    );

    let ids =
        |calls: Vec<hotline::store::Call>| calls.into_iter().map(|c| c.id).collect::<Vec<_>>();
    let all = CallSearch {
        limit: 50,
        ..CallSearch::default()
    };
    assert_eq!(
        ids(db.search_calls(&all).await.unwrap()),
        ["h-3", "h-2", "h-1"]
    );
    let by_phone = CallSearch {
        phone: Some(a.phone[a.phone.len() - 4..].to_string()),
        ..all.clone()
    };
    assert_eq!(ids(db.search_calls(&by_phone).await.unwrap()), ["h-1"]);
    let by_order = CallSearch {
        order: Some(order.clone()),
        ..all.clone()
    };
    assert_eq!(ids(db.search_calls(&by_order).await.unwrap()), ["h-2"]);
    let by_date = CallSearch {
        from: Some("2026-03-03".into()),
        to: Some("2026-03-03".into()),
        ..all.clone()
    };
    assert_eq!(ids(db.search_calls(&by_date).await.unwrap()), ["h-2"]);
    // LIKE's wildcards are the caller's characters, not patterns.
    let wild = CallSearch {
        phone: Some("%".into()),
        ..all.clone()
    };
    assert!(db.search_calls(&wild).await.unwrap().is_empty());

    assert_eq!(
        db.calls_since("2026-03-03T00:00:00Z", 100)
            .await
            .unwrap()
            .len(),
        2
    );
    assert!(
        db.transfers_since("2026-01-01", 100)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        db.survey_scores_since("2026-01-01")
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        db.turn_times_since("2026-01-01", 100)
            .await
            .unwrap()
            .is_empty()
    );

    // A new demo shop keeps the users and drops the notes with the calls.
    store::seed(db, 43, 5).await.unwrap();
    assert!(db.notes_of_call("h-2").await.unwrap().is_empty());
    assert!(db.console_user("ana").await.unwrap().is_some());
    assert!(db.remove_console_user("ana").await.unwrap());
    assert!(!db.remove_console_user("ana").await.unwrap());
}
