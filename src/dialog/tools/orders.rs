//! `get_order_status` and `track_shipment`: read-only.

use super::{Check, Ctx, Done, ToolError, item_lines, order};
use crate::dialog::reply::Reply;

pub(super) async fn status(ctx: &Ctx<'_>, order_id: &str) -> Result<Check, ToolError> {
    let detail = order(ctx, order_id).await?;
    let delivered_on = detail
        .shipment
        .as_ref()
        .filter(|s| s.status == "delivered" && detail.order.status == "delivered")
        .and_then(|s| s.eta.clone());
    Ok(Check::Ready(Done::Ran(Reply::OrderStatus {
        order_id: order_id.to_string(),
        placed: detail.order.placed.clone(),
        items: item_lines(ctx, &detail).await?,
        total_cents: detail.total_cents(),
        status: detail.order.status.clone(),
        delivered_on,
    })))
}

pub(super) async fn track(ctx: &Ctx<'_>, order_id: &str) -> Result<Check, ToolError> {
    let detail = order(ctx, order_id).await?;
    let reply = match &detail.shipment {
        None if detail.order.status == "cancelled" => Reply::AlreadyCancelled {
            order_id: order_id.to_string(),
        },
        None => Reply::NotShipped {
            order_id: order_id.to_string(),
        },
        Some(s) => Reply::Tracking {
            carrier: s.carrier.clone(),
            tracking: s.tracking.clone(),
            status: s.status.clone(),
            eta: s.eta.clone(),
            last_scan: detail
                .events
                .last()
                .map(|e| format!("{}, {}", e.description, e.location)),
        },
    };
    Ok(Check::Ready(Done::Ran(reply)))
}
